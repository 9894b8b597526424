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


def unstorable_text(obj: Any, path: str = "") -> str | None:
    """`field.path: what is wrong` for the first string (value or key) of the decoded JSON
    `obj` that cannot be stored, or None when all can."""
    if isinstance(obj, str):
        found = _bad_char(obj)
        return None if found is None else f"{path or 'body'}: {found}"
    if isinstance(obj, dict):
        for key, value in obj.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (found := _bad_char(key)) is not None:
                return f"{where}: field name {found}"
            if (found := unstorable_text(value, where)) is not None:
                return found
    elif isinstance(obj, list):
        for index, item in enumerate(obj):
            if found := unstorable_text(item, f"{path}.{index}" if path else str(index)):
                return found
    return None
