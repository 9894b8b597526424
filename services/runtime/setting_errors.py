"""A setting refused at start-up, told as an operator reads it: one line per setting, the
environment variable's name, the value given (a secret never) and what is allowed, never
pydantic's dump (`1 validation error for DatabaseSettings` / `pool_size` / `Input should be
...` / a link), which named the field, not the variable one sets."""

from __future__ import annotations

import re

from pydantic import ValidationError
from pydantic_settings import BaseSettings

# the values never echoed back: they are passwords or keys, or hold one
SECRETS = frozenset({"BORDERFLOW_KAFKA_SASL_PASSWORD", "BORDERFLOW_DRIVERS_SECRET"})
_URL_PASSWORD = re.compile(r"(://[^/@:]*:)[^/@]*@")


class SettingError(Exception):
    """A setting the process cannot start with: the database or the broker it names does
    not answer, the port it names is taken. Its text is one line naming the variable; the
    command line prints it and exits with status 2."""


def setting_errors(exc: ValidationError, classes: list[type[BaseSettings]]) -> list[str]:
    """`BORDERFLOW_X='given': what is allowed`, one per error of `exc`, raised by one of
    `classes` (the settings classes, by the name pydantic gives as the error's title)."""
    prefixes = {cls.__name__: str(cls.model_config.get("env_prefix", "")) for cls in classes}
    prefix = prefixes.get(exc.title, "BORDERFLOW_")
    lines = []
    for error in exc.errors(include_url=False):
        name = (prefix + "_".join(str(part) for part in error["loc"])).upper()
        said = error["msg"].removeprefix("Value error, ")
        lines.append(f"{name}{_given(name, error.get('input'))}: {said}")
    return lines


def _given(name: str, value: object) -> str:
    if not isinstance(value, str) or name in SECRETS:
        return ""
    return "=" + repr(_URL_PASSWORD.sub(r"\1***@", value))
