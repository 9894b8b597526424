"""Every refusal of a control-room action names what is at fault in `errors`: a refusal of
the rules (`ActionRefused`, 409) or a lookup (`ActionNotFound`, 404) names the body field its
message begins with (`lane_id: ...`); one naming none (a refusal written later without the
prefix) names `action`, the action refused as a whole: it came back typed but with no
`errors`, so a client reading `errors` was told nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lanes.actions import ActionRefused, UnknownTarget
from services.control.routes import ActionBody, _naming_its_field, refusal_problem
from services.service_layer.control import ActionNotFound

ROOT = Path(__file__).resolve().parents[2]
REFUSALS = {"ActionRefused", "ActionNotFound", "UnknownTarget"}


def _raised_messages() -> list[tuple[str, str]]:
    """(where, the message's opening text) of each `ActionRefused(...)` and
    `ActionNotFound(...)` built in the code."""
    found = []
    for package in ("lanes", "services"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in REFUSALS
                ):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    first = node.args[0] if node.args else None
                    if isinstance(first, ast.JoinedStr):
                        first = first.values[0] if first.values else None
                    text = first.value if isinstance(first, ast.Constant) else None
                    found.append((where, str(text)))
    return found


def test_every_refusal_of_an_action_begins_with_the_field_it_concerns() -> None:
    messages = _raised_messages()
    assert len(messages) > 20  # the scan finds them
    unnamed = [
        (where, text)
        for where, text in messages
        if text.partition(": ")[0] not in ActionBody.model_fields
    ]
    assert unnamed == []


@pytest.mark.parametrize(
    ("exc", "status", "field", "detail"),
    [
        (ActionRefused("lane_id: L2 is closed"), 409, "lane_id", "lane_id: L2 is closed"),
        (ActionNotFound("manifest_id: no manifest 'M'"), 404, "manifest_id", None),
        (ActionRefused("the gate is closed for the night"), 409, "action", None),
        (ActionRefused("note: not a field of the body"), 409, "action", None),
    ],
)
def test_a_refusal_names_its_field_or_the_action(
    exc: Exception, status: int, field: str, detail: str | None
) -> None:
    problem = _naming_its_field(status, "action-refused", exc)
    assert problem.status_code == status
    assert problem.detail == (detail or str(exc))  # the detail as it was
    assert problem.errors is not None
    assert [e.field for e in problem.errors] == [field]


@pytest.mark.parametrize(
    ("exc", "status", "slug"),
    [
        (ActionRefused("lane_id: L2 is closed"), 409, "action-refused"),
        (UnknownTarget("lane_id: gate 'g' has no lane 'L9'"), 404, "not-found"),
        (UnknownTarget("carrier_id: gate 'g' has no carrier 'C9'"), 404, "not-found"),
        (ActionNotFound("visit_id: no decided visit 'v'"), 404, "not-found"),
    ],
)
def test_an_unknown_thing_is_not_found_and_a_conflict_is_409(
    exc: Exception, status: int, slug: str
) -> None:
    """An unknown lane or carrier answered 409, an unknown visit 404 (a stranger's test):
    whatever the body names that the gate has not is 404; 409 is a conflict with the
    board's state."""
    problem = refusal_problem(exc)
    assert problem.status_code == status
    assert problem.slug == slug
    assert problem.errors is not None and problem.errors[0].field == str(exc).partition(":")[0]
