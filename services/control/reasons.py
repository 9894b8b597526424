"""A controller's reason, kept in the audit log with each action and each alert's
acknowledge, escalate or dismiss: 3 to 500 characters once the blanks around it are
dropped. Only blanks is "must not be blank" (a reason of 3 spaces was told "String should
have at least 3 characters", an alert's "3 to 500 characters: why")."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, StringConstraints


def _not_blank(value: object) -> object:
    """The text with the blanks around it dropped; one of blanks only is refused."""
    if not isinstance(value, str):
        return value  # refused as not a string by the type
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


Reason = Annotated[
    str,
    # `\S`: not blanks only, in the document too (a JSON Schema pattern is a search)
    StringConstraints(min_length=3, max_length=500, pattern=r"\S"),
    BeforeValidator(_not_blank),
    Field(
        description="why: kept in the audit log; 3 to 500 characters once the blanks around "
        "it are dropped, not blanks only"
    ),
]
