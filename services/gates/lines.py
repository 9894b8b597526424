"""Where a field of a gate file is written: the line of a dotted path such as
`lanes[3].service.mean_min`, so that an error says `huu-nghi.toml:57: lanes[3]...` rather
than leave a person to count `[[lanes]]` headers. The TOML reader keeps no positions, so the
text is scanned here: table headers (`[fleet.yard]`, `[[lanes]]`, counted), `key = value`
lines, and the lines of a multi-line array that open an inline table (`cameras = [` then one
`{ ... }` a line). A path is placed at the deepest part found: `lanes[3].service.mean_min`
(an inline table) at its `service = ...` line, a field left out of `[[lanes]]` number 3 at
that header. None when nothing of it is in the file (a top-level key left out)."""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_KEY = re.compile(r'\s*("[^"]*"|[A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*=')
_HEADER = re.compile(r"\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*$")


def parse_path(dotted: str) -> Path:
    """`"lanes[3].service.mean_min"` -> ("lanes", 3, "service", "mean_min")."""
    return tuple(int(index) if index else name.strip() for name, index in _PART.findall(dotted))


def _code(line: str) -> str:
    """The line without its comment (a `#` outside a string)."""
    quote = ""
    for n, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:n]
    return line


def _depth(code: str) -> int:
    """How many brackets the line opens, less those it closes (strings skipped)."""
    depth, quote = 0, ""
    for char in code:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
    return depth


def field_lines(text: str) -> dict[Path, int]:
    """Every path the scan can place, to its line (1-based)."""
    lines: dict[Path, int] = {}
    counts: dict[Path, int] = {}  # array-of-tables path -> tables seen so far
    table: Path = ()
    array: Path | None = None  # the key of an open multi-line array
    elements = depth = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        code = _code(raw).strip()
        if not code:
            continue
        if array is not None:  # inside a multi-line array
            if depth == 1 and code.startswith("{"):
                lines.setdefault((*array, elements), number)
                elements += 1
            depth += _depth(code)
            if depth <= 0:
                array = None
            continue
        header = _HEADER.match(code)
        if header is not None and not _KEY.match(code):
            names = tuple(p.strip().strip('"') for p in header[2].split("."))
            table = _table(names, table, counts, many=header[1] == "[[")
            lines.setdefault(table, number)
            continue
        key = _KEY.match(code)
        if key is None:
            continue
        path = (*table, *(p.strip().strip('"') for p in key[1].split(".")))
        lines.setdefault(path, number)
        opened = _depth(code[key.end() :])
        if opened > 0:
            array, elements, depth = path, 0, opened
    return lines


def _table(names: tuple[str, ...], current: Path, counts: dict[Path, int], *, many: bool) -> Path:
    """The path of a header's table: an enclosing array of tables' latest index put in
    (`[[booking.overrides]]` under `[booking]`; `[fleet.yard]` after `[fleet]`)."""
    path: Path = ()
    for n, name in enumerate(names):
        path = (*path, name)
        last = n == len(names) - 1
        if last and many:
            index = counts.get(path, 0)
            counts[path] = index + 1
            for key in [k for k in counts if len(k) > len(path) and k[: len(path)] == path]:
                del counts[key]  # a new table: its own nested arrays start again
            return (*path, index)
        if path in counts:  # an enclosing array of tables: its latest table
            path = (*path, counts[path] - 1)
    return path


def line_of(text: str, dotted: str) -> int | None:
    """The line the field `dotted` is written on, or the nearest enclosing part of it."""
    return placed(field_lines(text), dotted)


def placed(lines: dict[Path, int], dotted: str) -> int | None:
    """As `line_of`, on the `field_lines` of a text (scanned once for many fields)."""
    if not dotted:
        return None
    path = parse_path(dotted)
    for end in range(len(path), 0, -1):
        found = lines.get(path[:end])
        if found is not None:
            return found
    return None
