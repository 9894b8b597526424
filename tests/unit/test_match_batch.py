"""`borderflow match`: reads matched against manifests offline, one answer line per read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.cli.main import main

WINDOW = {"window_start": "2025-06-01T08:00:00Z", "window_end": "2025-06-01T12:00:00Z"}
IN_WINDOW = "2025-06-01T10:00:00Z"


def _manifest(manifest_id: str, plate: str, **fields: Any) -> dict[str, Any]:
    return {
        "manifest_id": manifest_id,
        "firm_id": "firm-01",
        "direction": "export",
        "tractor_plate": plate,
        "customs_status": "cleared",
        **WINDOW,
        **fields,
    }


def _read(read_id: str, plate_text: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": read_id,
        "camera_id": "hn-exp-gate-1",
        "captured_at": IN_WINDOW,
        "plate_text": plate_text,
        "confidence": 0.95,
        **fields,
    }


def _jsonl(path: Path, lines: list[dict[str, Any] | str]) -> str:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return str(path)


def _run(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    manifests: list[dict[str, Any] | str],
    reads: list[dict[str, Any] | str],
) -> tuple[int, list[dict[str, Any]], str]:
    """Exit status, the answer lines (parsed) and standard error."""
    m = _jsonl(tmp_path / "m.jsonl", manifests)
    r = _jsonl(tmp_path / "r.jsonl", reads)
    status = main(["match", "--manifests", m, "--reads", r])
    captured = capsys.readouterr()
    return status, [json.loads(line) for line in captured.out.splitlines()], captured.err


def test_a_clean_read_is_matched_to_its_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _run(
        tmp_path,
        capsys,
        [_manifest("M-1", "29H-123.45"), _manifest("M-2", "51C-777.77")],
        [_read("r-1", "29H 123.45")],
    )
    assert status == 0
    assert out == [{"read_id": "r-1", "manifest_id": "M-1", "outcome": "matched", "score": 1.0}]


def test_a_misread_is_still_matched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(
        tmp_path, capsys, [_manifest("M-1", "29H-123.45")], [_read("r-1", "29H-I23.45")]
    )
    assert out[0]["manifest_id"] == "M-1"
    assert out[0]["outcome"] == "matched"
    assert 0.0 < out[0]["score"] < 1.0


def test_answers_come_in_input_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifests: list[dict[str, Any] | str] = [
        _manifest(f"M-{n}", f"29H-{n:03d}.45") for n in range(100, 110)
    ]
    order = [107, 101, 109, 100, 105, 103]
    status, out, _ = _run(
        tmp_path, capsys, manifests, [_read(f"r-{n}", f"29H{n:03d}45") for n in order]
    )
    assert status == 0
    assert [(a["read_id"], a["manifest_id"]) for a in out] == [(f"r-{n}", f"M-{n}") for n in order]


def test_read_id_is_accepted_for_event_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = _read("ignored", "29H-123.45")
    del plain["event_id"]
    plain["read_id"] = "cam-42"
    enveloped = {
        "event_id": "env-1",
        "type": "plate_read",
        "version": 1,
        "occurred_at": IN_WINDOW,
        "producer": "gateway",
        "data": {**plain, "read_id": "cam-43"},
    }
    status, out, _ = _run(tmp_path, capsys, [_manifest("M-1", "29H-123.45")], [plain, enveloped])
    assert status == 0
    assert [(a["read_id"], a["manifest_id"]) for a in out] == [("cam-42", "M-1"), ("cam-43", "M-1")]


def test_bad_lines_are_reported_with_line_and_field_and_the_rest_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_firm = _manifest("M-2", "51C-777.77")
    del no_firm["firm_id"]
    manifests: list[dict[str, Any] | str] = [
        _manifest("M-1", "29H-123.45"),
        "",
        no_firm,
        _manifest("M-3", "29H-123"),  # not a plate
        _manifest("M-4", "30C-555.55"),
    ]
    reads: list[dict[str, Any] | str] = [
        _read("r-1", "29H-123.45"),
        "",
        _read("r-2", "29H-123.45", confidence=1.5),
        "{not json",
        _read("r-3", "30C-555.55"),
    ]
    status, out, err = _run(tmp_path, capsys, manifests, reads)
    assert status == 1
    assert f"{tmp_path / 'm.jsonl'}:3: firm_id: Field required" in err
    assert f"{tmp_path / 'm.jsonl'}:4: tractor_plate: " in err
    assert f"{tmp_path / 'r.jsonl'}:3: confidence: " in err
    assert f"{tmp_path / 'r.jsonl'}:4: invalid JSON" in err
    assert [(a["read_id"], a["outcome"], a["manifest_id"]) for a in out] == [
        ("r-1", "matched", "M-1"),
        ("r-2", "invalid", None),
        (None, "invalid", None),
        ("r-3", "matched", "M-4"),
    ]
    assert out[1]["score"] == 0.0
    assert out[1]["error"].startswith("line 3: confidence: ")
    assert out[2]["error"].startswith("line 4: invalid JSON")
    assert "error" not in out[0]


def test_a_later_manifest_line_replaces_an_earlier_one_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _run(
        tmp_path,
        capsys,
        [_manifest("M-1", "29H-123.45"), _manifest("M-1", "51C-777.77")],
        [_read("r-1", "51C-777.77"), _read("r-2", "29H-123.45")],
    )
    assert status == 0
    assert "m.jsonl:2: manifest_id: 'M-1' also on line 1" in err
    assert [(a["manifest_id"], a["outcome"]) for a in out] == [
        ("M-1", "matched"),
        (None, "unknown"),
    ]


def test_refused_outcomes_still_name_the_manifest_and_unknown_names_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifests: list[dict[str, Any] | str] = [
        _manifest("M-pending", "29H-111.11", customs_status="pending"),
        _manifest("M-late", "29H-222.22"),
        _manifest("M-import", "29H-333.33", direction="import"),
    ]
    reads: list[dict[str, Any] | str] = [
        _read("r-pending", "29H-111.11"),
        _read("r-late", "29H-222.22", captured_at="2025-06-01T15:00:00Z"),
        _read("r-wrong-way", "29H-333.33"),  # seen by an export camera
        _read("r-stranger", "88C-987.65"),
    ]
    status, out, _ = _run(tmp_path, capsys, manifests, reads)
    assert status == 0
    assert [(a["outcome"], a["manifest_id"]) for a in out] == [
        ("not_cleared", "M-pending"),
        ("outside_window", "M-late"),
        ("mismatch", "M-import"),
        ("unknown", None),
    ]


def test_a_camera_of_no_gate_matches_without_direction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _run(
        tmp_path,
        capsys,
        [_manifest("M-import", "29H-333.33", direction="import")],
        [_read("r-1", "29H-333.33", camera_id="third-party-cam")],
    )
    assert (out[0]["outcome"], out[0]["manifest_id"]) == ("matched", "M-import")


def test_out_writes_to_a_file_and_the_summary_goes_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = _jsonl(tmp_path / "m.jsonl", [_manifest("M-1", "29H-123.45")])
    r = _jsonl(tmp_path / "r.jsonl", [_read("r-1", "29H-123.45"), _read("r-2", "88C-987.65")])
    out = tmp_path / "answers.jsonl"
    assert main(["match", "--manifests", m, "--reads", r, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "2 reads (matched 1, unknown 1)" in captured.err
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [a["read_id"] for a in lines] == ["r-1", "r-2"]


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = _jsonl(tmp_path / "r.jsonl", [_read("r-1", "29H-123.45")])
    status = main(["match", "--manifests", str(tmp_path / "nope.jsonl"), "--reads", r])
    assert status == 2
    assert "nope.jsonl" in capsys.readouterr().err
