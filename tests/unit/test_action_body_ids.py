"""A control-room action's `manifest_id` is read as the firm API reads one
(`streams.manifests.normalise_id`, 1ab8094): the blanks around it dropped, one not of the id
alphabet refused in words. `pick_manifest` with `" MF-1 "` looked for `" MF-1 "` and was a
404 (no such manifest) while the firm's booking of `" MF-1 "` was MF-1's."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.control.routes import ActionBody
from streams.manifests import ID_WORDS


def pick(manifest_id: str) -> ActionBody:
    return ActionBody.model_validate(
        {
            "action": "pick_manifest",
            "visit_id": "v-1",
            "reason": "plate misread",
            "manifest_id": manifest_id,
        }
    )


@pytest.mark.parametrize("sent", [" MF-1 ", "MF-1", "\tMF-1\n"])
def test_the_blanks_around_a_manifest_id_are_dropped(sent: str) -> None:
    assert pick(sent).manifest_id == "MF-1"


def test_a_manifest_id_of_blanks_only_is_missing() -> None:
    with pytest.raises(ValidationError) as refused:
        pick("   ")
    assert "required for pick_manifest" in str(refused.value)


def test_a_manifest_id_outside_the_id_alphabet_is_refused_in_words() -> None:
    with pytest.raises(ValidationError) as refused:
        pick("MF 1")
    (error,) = refused.value.errors()
    assert error["loc"] == ("manifest_id",) and ID_WORDS in error["msg"]
