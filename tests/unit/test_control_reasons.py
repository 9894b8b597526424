"""A controller's reason (an action's, an alert's acknowledge/escalate/dismiss) that is only
blanks is refused with "must not be blank", naming `reason`. Found by a stranger's test: a
reason of 3 spaces was told "String should have at least 3 characters" (it has three), and
an alert's "3 to 500 characters: why"."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from services.api.problems import FieldError, field_errors
from services.control.alerts import AlertAction
from services.control.routes import ActionBody

BODIES: dict[type[BaseModel], dict[str, Any]] = {
    ActionBody: {"action": "hold", "visit_id": "v-1"},
    AlertAction: {},
}


def _refusal(model: type[BaseModel], reason: str) -> list[FieldError]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(BODIES[model] | {"reason": reason})
    return field_errors(refused.value.errors())


@pytest.mark.parametrize("model", BODIES)
@pytest.mark.parametrize("blank", ["   ", "", "\n\t \u3000"])
def test_a_blank_reason_must_not_be_blank(model: type[BaseModel], blank: str) -> None:
    assert _refusal(model, blank) == [FieldError(field="reason", message="must not be blank")]


@pytest.mark.parametrize("model", BODIES)
def test_a_short_reason_is_told_its_length_and_a_good_one_is_kept_trimmed(
    model: type[BaseModel],
) -> None:
    (short,) = _refusal(model, "  a ")
    assert short.field == "reason" and "at least 3 characters" in short.message
    taken = model.model_validate(BODIES[model] | {"reason": " seal checked \n"})
    assert taken.reason == "seal checked"
