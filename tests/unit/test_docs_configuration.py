"""Every setting is on the configuration page: docs/configuration.md says the settings are
the environment variables it lists, and a stranger running borderflow with their own var
directory and ports looked there for BORDERFLOW_VAR_DIR and BORDERFLOW_METRICS_PORT and did
not find them (nor the drivers' page secret, the pool size, the replication factor)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from services.runtime.settings import Settings

PAGE = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()


def _variables(settings: type[BaseSettings]) -> list[str]:
    """The environment variable of each field; a nested group's (kafka, database, ...)."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names = []
    for name, field in settings.model_fields.items():
        group = field.annotation
        if isinstance(group, type) and issubclass(group, BaseSettings):
            names += _variables(group)
        else:
            names.append((prefix + name).upper())
    return names


@pytest.mark.parametrize("variable", _variables(Settings))
def test_each_setting_is_on_the_configuration_page(variable: str) -> None:
    # the page names one in full, or after another of its group as `/ `_REST``
    group, rest = next(
        (head, variable[len(head) :])
        for head in ("BORDERFLOW_KAFKA", "BORDERFLOW_DATABASE", "BORDERFLOW_DRIVERS", "")
        if variable.startswith(head)
    )
    named = f"`{variable}`" in PAGE or (group != "" and f"`{rest}`" in PAGE)
    assert named, f"{variable} is not on docs/configuration.md"
