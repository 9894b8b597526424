"""A manifest without `firm_id` where no API key names the firm: the refusal says why.

Found by a stranger's Kafka client (2026-12-06): the manifest example of the event formats
(docs/reference/asyncapi.json, ManifestV1's `examples`, shared with the HTTP API) has no
`firm_id`, and the schema's table lists `firm_id` as not required; copied onto
`borderflow.manifests`, it was dead-lettered with `firm_id: Field required` and no word of
why a field listed as optional is required there."""

from __future__ import annotations

import json

import pytest

from streams.errors import InvalidEvent
from streams.manifests import ManifestV1, decode_manifest


def test_the_documented_example_without_a_firm_is_refused_saying_why() -> None:
    (example,) = ManifestV1.model_json_schema()["examples"]
    assert "firm_id" not in example
    with pytest.raises(InvalidEvent) as refused:
        decode_manifest(json.dumps(example))
    reason = str(refused.value)
    assert reason.startswith("firm_id: Field required")  # the field first, as every refusal
    assert "API key" in reason and "POST /v1/manifests" in reason


def test_the_example_with_its_firm_is_taken() -> None:
    (example,) = ManifestV1.model_json_schema()["examples"]
    manifest = decode_manifest(json.dumps({**example, "firm_id": "lsl"}))
    assert (manifest.manifest_id, manifest.firm_id) == ("MF-2026-0001", "lsl")
    assert decode_manifest(json.dumps(example), require_firm=False).firm_id is None
