"""Text that every store can keep. PostgreSQL's text refuses U+0000 (NUL), and a lone UTF-16
surrogate (U+D800-U+DFFF, which JSON's \\u escapes can spell) is not UTF-8 at all: either one
reached the database as a 500. Every way in (the HTTP API, the topics' decoders, the
manifest import) checks the decoded JSON with `unstorable_text` and refuses the input with
the field named."""

from __future__ import annotations

from typing import Any

_NUL = "\x00"


def _bad_char(text: str) -> str | None:
    if _NUL in text:
        return "contains U+0000 (NUL), which cannot be stored; remove it"
    for char in text:
        if "\ud800" <= char <= "\udfff":
            return f"contains a lone surrogate U+{ord(char):04X} (not UTF-8); send valid text"
    return None


def _escaped(text: str) -> str:
    """`text` with NUL and lone surrogates spelled as escapes: a field name that holds them
    is named in replies, logs and dead-letter headers, which must encode as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace(_NUL, "\\x00")


def unstorable_text(obj: Any, path: str = "") -> str | None:
    """`field.path: what is wrong` for the first string (value or key, in document order) of
    the decoded JSON `obj` that cannot be stored, or None when all can. Iterative: JSON
    nested as deep as the parser takes cannot overflow the stack here."""
    # (path, the field name that leads there or None, the value), the next one last
    todo: list[tuple[str, str | None, Any]] = [(path, None, obj)]
    while todo:
        where, key, item = todo.pop()
        if key is not None and (found := _bad_char(key)) is not None:
            return f"{_escaped(where)}: field name {found}"
        if isinstance(item, str):
            if (found := _bad_char(item)) is not None:
                return f"{where or 'body'}: {found}"
        elif isinstance(item, dict):
            fields = [
                (f"{where}.{k}" if where else str(k), k if isinstance(k, str) else None, v)
                for k, v in item.items()
            ]
            todo.extend(reversed(fields))
        elif isinstance(item, list):
            items = [(f"{where}.{i}" if where else str(i), None, v) for i, v in enumerate(item)]
            todo.extend(reversed(items))
    return None
