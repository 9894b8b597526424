"""Units of issue 7: reading event ids and times off records, input assembly, the what-if
file, decision comparison, KPIs, the report and re-drive pacing (fake clock)."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.archive.records import ArchivedRecord, identify
from services.archive.redrive import clean_headers, redrive, target
from services.archive.store import RecordedBatch
from services.cli.main import main
from services.gates.loader import GateConfigError, configured_gates, default_gates
from services.replay import report
from services.replay.compare import exact_differences, latest, truck_diff
from services.replay.inputs import ReplayInputs, assemble
from services.replay.kpis import kpis
from services.replay.report import MAX_LANE_PANELS, queue_panels, render
from services.replay.run import write_outputs
from services.replay.sandbox import SandboxResult
from services.replay.whatif import load_what_if, recorded

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def _record(topic: str, offset: int, payload: dict[str, Any] | bytes, **kw: Any) -> ArchivedRecord:
    value = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    event_id, at = identify(value)
    return ArchivedRecord(
        topic=topic,
        partition=0,
        offset=offset,
        timestamp_ms=0,
        key=b"k",
        value=value,
        headers=kw.get("headers", ()),
        event_id=event_id,
        event_time=at or T0,
    )


def _read(event_id: str, camera: str = "hn-exp-gate-1") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "camera_id": camera,
        "captured_at": T0.isoformat(),
        "plate_text": "29H12345",
        "confidence": 0.9,
    }


def _decision(
    visit: str,
    lane: str | None,
    *,
    revision: int = 0,
    start_min: float = 1.0,
    outcome: str = "assigned",
) -> dict[str, Any]:
    return {
        "visit_id": visit,
        "decision_id": f"d-{visit}-{revision}",
        "revision": revision,
        "plate": visit.upper(),
        "manifest_id": None,
        "outcome": outcome,
        "lane_id": lane,
        "carrier_slot": None,
        "reason": "green, perishable, walk-in, priority 1: ...",
        "decided_at": T0.isoformat(),
        "expected_start_at": (T0 + timedelta(minutes=start_min)).isoformat(),
        "expected_done_at": (T0 + timedelta(minutes=start_min + 2)).isoformat(),
    }


def test_identify_reads_envelopes_bare_events_and_refuses_nothing() -> None:
    bare = json.dumps({"read_id": "r-1", "captured_at": "2026-11-24T08:00:00+07:00"}).encode()
    assert identify(bare) == ("r-1", T0)
    env = {
        "event_id": "d-1",
        "type": "lane_decision",
        "version": 1,
        "occurred_at": "2026-11-24T00:00:00Z",
        "data": {"decided_at": "2026-11-24T01:00:00"},
    }
    assert identify(json.dumps(env).encode()) == ("d-1", T0)  # naive: UTC
    assert identify(b"\xff\x00") == (None, None)
    assert identify(b"[1, 2]") == (None, None)
    assert identify(None) == (None, None)


def test_assemble_follows_the_recorded_batches_and_filters_by_gate() -> None:
    records = [
        _record("borderflow.plate-reads", 0, _read("a")),
        _record("borderflow.plate-reads", 1, _read("b")),
        _record("borderflow.plate-reads", 2, _read("c", camera="elsewhere-1")),
        _record(
            "borderflow.lane-events",
            0,
            {"event_id": "e", "gate_id": "huu-nghi", "at": T0.isoformat()},
        ),
        _record(
            "borderflow.lane-decisions",
            0,
            {"decision_id": "d-1", "visit_id": "v", "gate_id": "huu-nghi"},
        ),
    ]
    batches = [
        RecordedBatch(1, "decider", ("b",), T0, T0, T0, 0),
        RecordedBatch(2, "lane-events", ("e",), T0, T0, T0, 1),
        RecordedBatch(3, "decider", ("a", "c", "missing"), T0, T0, T0, 1),
    ]
    gate = default_gates()["huu-nghi"]
    got = assemble(records, batches, [], gates=[gate])
    assert got.batches_recorded
    assert [(b.worker, [r.event_id for r in b.records]) for b in got.batches] == [
        ("decider", ["b"]),
        ("lane-events", ["e"]),
        ("decider", ["a"]),
    ]
    assert [d["decision_id"] for d in got.recorded] == ["d-1"]
    rebuilt = assemble(records, [], [], fallback_batch=2)
    assert not rebuilt.batches_recorded
    assert [[r.event_id for r in b.records] for b in rebuilt.batches] == [["a", "b"], ["c"], ["e"]]


def test_what_if_gives_named_lanes_new_fields_and_keeps_their_order(tmp_path: Path) -> None:
    policy = tmp_path / "perishable.toml"
    policy.write_text(
        'policy = "orchestrated"\n[[lanes]]\nids = ["HN-E3"]\naccepts = ["perishable"]\n'
    )
    gates = default_gates()
    scenario = load_what_if(policy, gates, gates_dir=None)
    before, after = gates["huu-nghi"].lanes, scenario.gates["huu-nghi"].lanes
    assert [lane.lane_id for lane in before] == [lane.lane_id for lane in after]
    changed = [a for b, a in zip(before, after, strict=True) if a != b]
    assert [lane.lane_id for lane in changed] == ["HN-E3"]
    assert {str(c) for c in changed[0].accepts} == {"perishable"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('policy = "greedy"\n', "perishable.toml: policy: 'greedy' is not one of"),
        ('[[lanes]]\nids = ["HN-X9"]\naccepts = ["general"]\n', "lanes[0]: ids: no lane ['HN-X9']"),
        ('[[lanes]]\nids = ["HN-E1"]\naccepts = ["coal"]\n', "perishable.toml: lanes"),
        # a misspelt key or table was ignored: the what-if ran as the recorded day
        ('[[lane]]\nids = ["HN-E1"]\naccepts = ["perishable"]\n', "lane: unknown key"),
        ("bogus = 1\n", "bogus: unknown key .a what-if file takes: closures, gate, gate_file"),
        ('[lanes]\nids = ["HN-E1"]\n', "lanes: an array of tables: write each entry as"),
        # ids of the wrong type: a number was a TypeError traceback, a string was taken
        # letter by letter ("no lane ['-', '1', 'E', 'H', 'N']")
        ("[[lanes]]\nids = 5\n", "lanes[0]: ids: an array of lane ids"),
        (
            '[[lanes]]\nids = "HN-E1"\n',
            "lanes[0]: ids: an array of lane ids, e.g. .* .got 'HN-E1'.",
        ),
        ("[[lanes]]\nids = [1, 2]\n", "lanes[0]: ids: an array of lane ids"),
        # these ran as the recorded policy and said nothing
        ("", "perishable.toml: the what-if file is empty: give policy, lanes, closures or gate"),
        ('gate = "nowhere"\n', "perishable.toml: gate: unknown gate 'nowhere' .known: huu-nghi"),
        # a JSON or YAML file: say that it must be TOML
        ('{"policy": "orchestrated"}\n', "cannot read the what-if file as TOML: "),
        # found by an analyst's try: "Input should be a valid dictionary or instance of
        # DurationConfig", a class name of ours, and not how to write one
        (
            '[[lanes]]\nids = ["HN-E1"]\nservice = 3\n',
            "lanes[0].service: a duration, e.g. . mean_min = 2.5, sd_min = 0.8 . .minutes, "
            "lognormal; sd_min = 0 for a fixed one., not 3",
        ),
    ],
)
def test_what_if_errors_name_the_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    policy = tmp_path / "perishable.toml"
    policy.write_text(text)
    with pytest.raises(GateConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_what_if(policy, default_gates(), gates_dir=None)


def test_a_what_ifs_gate_file_of_a_gate_that_was_not_recorded_is_refused(
    tmp_path: Path,
) -> None:
    """Found by a stranger's try: a gate file copied with another gate_id ran as the
    recorded day, "0 trucks changed" (the replayed gate was not the one changed)."""
    text = (Path(__file__).parents[2] / "services/gates/huu-nghi.toml").read_text(encoding="utf-8")
    other = text.replace('gate_id = "huu-nghi"', 'gate_id = "lang-son-2"')
    assert other != text
    (tmp_path / "other.toml").write_text(other, encoding="utf-8")
    policy = tmp_path / "whatif.toml"
    policy.write_text('gate_file = "other.toml"\n')
    with pytest.raises(
        GateConfigError, match=r"whatif\.toml: gate_file: unknown gate 'lang-son-2' \(known: "
    ):
        load_what_if(policy, default_gates(), gates_dir=None)


def test_a_fault_in_a_what_ifs_gate_file_names_that_file(tmp_path: Path) -> None:
    """Found by a stranger's try: a bad window in the gate file was reported as the what-if
    file's `lanes[0].hours[0]` (a what-if with no lanes), and a gate file saved with a
    byte-order mark as 'Invalid statement (at line 1, column 1)'."""
    text = (Path(__file__).parents[2] / "services/gates/huu-nghi.toml").read_text(encoding="utf-8")
    bad = text.replace('hours = ["06:00-22:00"]', 'hours = ["24h"]', 1)
    assert bad != text
    (tmp_path / "bad-gate.toml").write_text(bad, encoding="utf-8")
    policy = tmp_path / "whatif.toml"
    policy.write_text('gate_file = "bad-gate.toml"\n')
    with pytest.raises(GateConfigError) as caught:
        load_what_if(policy, default_gates(), gates_dir=None)
    line = bad.splitlines().index('hours = ["24h"]') + 1  # the gate file's line
    assert str(caught.value) == (
        f"whatif.toml: gate_file: bad-gate.toml:{line}: lanes[2].hours[0]: '24h' is not a "
        "window 'HH:MM-HH:MM' (e.g. '06:00-22:00')"
    )
    (tmp_path / "bom.toml").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    policy.write_text('gate_file = "bom.toml"\n')
    assert (
        load_what_if(policy, default_gates(), gates_dir=None).gates["huu-nghi"]
        == (default_gates()["huu-nghi"])
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[lanes]]\nids = ["HN-E3"]\nkind = "hazmat"\n',
            "perishable.toml: lanes[0].accepts: a hazmat lane must accept 'hazmat' cargo",
        ),
        (
            '[[lanes]]\nids = ["HN-E1"]\naccepts = ["general"]\n\n'
            '[[lanes]]\nids = ["HN-I4"]\nhours = ["25:00-06:00"]\n',
            "perishable.toml: lanes[1].hours[0]: 25:00 is not a time of day (00:00-23:59; "
            "24:00 as an end)",
        ),
    ],
)
def test_a_fault_of_a_lanes_change_names_the_what_ifs_own_entry(
    tmp_path: Path, text: str, message: str
) -> None:
    """A change splits the gate's lane groups, and its fault was named by the changed gate's
    group (`lanes[1]`, `lanes[8]`) rather than by the what-if's own [[lanes]] entry (found by
    a stranger's try: a what-if of one entry told of lanes[1])."""
    policy = tmp_path / "perishable.toml"
    policy.write_text(text)
    with pytest.raises(GateConfigError) as caught:
        load_what_if(policy, default_gates(), gates_dir=None)
    assert str(caught.value) == message


def test_exact_differences_name_every_divergence() -> None:
    a = [_decision("v1", "HN-E1"), _decision("v2", "HN-E2")]
    assert exact_differences(a, list(reversed(a))) == []
    b = [_decision("v1", "HN-E3"), _decision("v3", "HN-E2")]
    assert exact_differences(a, b) == [
        "visit v1 revision 0: lane_id differ",
        "visit v2 revision 0: only recorded",
        "visit v3 revision 0: only replayed",
    ]


def test_truck_diff_compares_each_visits_current_decision() -> None:
    recorded = [
        _decision("v1", "HN-E1"),
        _decision("v1", "HN-E4", revision=1),
        _decision("v2", "HN-E2"),
    ]
    replayed = [_decision("v1", "HN-E4", revision=1), _decision("v2", "HN-E2", start_min=3.5)]
    assert latest(recorded)["v1"]["lane_id"] == "HN-E4"
    (row,) = truck_diff(recorded, replayed)
    assert row["visit_id"] == "v2" and row["changed"] == ["wait_min"]
    assert (row["recorded"]["wait_min"], row["replayed"]["wait_min"]) == (1.0, 3.5)


def test_kpis_count_outcomes_waits_and_lanes() -> None:
    decisions = [
        _decision("v1", "HN-E1"),
        _decision("v2", "HN-E1", start_min=3.0),
        _decision("v3", None, outcome="needs_review"),
    ]
    got = kpis(decisions, gate=default_gates()["huu-nghi"])
    assert (got["trucks"], got["assigned"], got["needs_review"]) == (3, 2, 1)
    assert got["wait_min_median"] == 2.0 and got["wait_min_max"] == 3.0
    assert got["trucks_by_lane"] == {"HN-E1": 2}
    assert got["perishable_dwell_min_p95"] == 5.0


def test_report_is_one_self_contained_page() -> None:
    page = render(
        title="t <x>",
        summary={"gate": "huu-nghi"},
        comparison={"trucks": {"recorded": 1, "replayed": 2, "change": 1}},
        diff=[],
        images={"dwell": "AAAA"},
    )
    assert "t &lt;x&gt;" in page and 'src="data:image/png;base64,AAAA"' in page
    assert "<script" not in page and "http" not in page


def test_the_report_reads_in_the_gate_s_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """An analyst at Huu Nghi (UTC+07:00) reads the charts and the trucks' times on the
    gate's clock (a tester found the charts in UTC: a truck seen at 08:00 drawn at 01:00)."""
    figures: list[Any] = []
    monkeypatch.setattr(report, "_png", lambda fig: figures.append(fig) or "")
    decisions = [_decision("v1", "HN-E1", start_min=30)]
    report.charts(decisions, decisions, gate=default_gates()["huu-nghi"])
    queues = figures[0].axes[0]
    assert queues.lines[0].get_xdata()[0] == datetime(2026, 11, 24, 8, 0)  # T0: 01:00 UTC
    assert queues.get_xlabel() == "gate time (UTC+07:00)"
    assert "UTC+07:00" in figures[0].texts[0].get_text()  # the title names the zone
    diff = truck_diff(decisions, [_decision("v1", "HN-E2", start_min=30)])
    page = render(
        title="t", summary={}, comparison={}, diff=diff, images={}, utc_offset=timedelta(hours=7)
    )
    assert "<th>seen (UTC+07:00)</th>" in page and "<td>2026-11-24 08:00</td>" in page


def test_the_alerts_written_are_the_ranges_not_the_warm_ups(tmp_path: Path) -> None:
    """Found by a stranger's try: a replay of 21:00-03:00 local wrote all 21 alerts of the
    day to alerts.jsonl, the 24 h warm-up's included, while its decisions were the range's."""
    start, end = T0, T0 + timedelta(hours=6)

    def alert(alert_id: str, at: datetime) -> dict[str, Any]:
        return {"alert_id": alert_id, "raised_at": at.isoformat().replace("+00:00", "Z")}

    alerts = (
        alert("al-warm-up", start - timedelta(hours=3)),
        alert("al-in-range", start + timedelta(hours=1)),
        alert("al-after", end + timedelta(minutes=1)),
    )
    write_outputs(
        tmp_path,
        inputs=ReplayInputs(batches=(), manifests=(), recorded=(), batches_recorded=True),
        result=SandboxResult(decisions=(), dead_letters=0, batches=0, alerts=alerts),
        baseline=(),
        baseline_label="published decisions",
        scenario=recorded(default_gates()),
        gate_id="huu-nghi",
        start=start,
        end=end,
        wall_s=0.0,
        exact=True,
        warm_up=timedelta(hours=24),
    )
    written = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert [json.loads(line)["alert_id"] for line in written] == ["al-in-range"]


def test_the_queue_panels_keep_the_lanes_that_differ_and_name_those_left_out() -> None:
    """Found by a stranger's try: a what-if with 14 lanes queueing drew the first 12 in text
    order (HN-E10 before HN-E2) and dropped HN-I8 and HN-I9 without a word."""
    gate = default_gates()["huu-nghi"]
    lanes = [lane.lane_id for lane in gate.lanes if lane.lane_id != "HN-E1"]
    assert len(lanes) > MAX_LANE_PANELS + 1

    def queue(n: int) -> list[tuple[datetime, int]]:
        return [(T0, n), (T0 + timedelta(minutes=5), 0)]

    recorded_side = {lane: queue(1 + i) for i, lane in enumerate(lanes)}
    replayed_side = {**recorded_side, "HN-E2": queue(50), "HN-E1": queue(1)}
    drawn, left_out = queue_panels(
        {"recorded": recorded_side, "replayed": replayed_side}, gate=gate
    )
    assert len(drawn) == MAX_LANE_PANELS and len(drawn) + len(left_out) == len(lanes) + 1
    # the two that differ first, then the most queued; drawn in the gate's order
    assert {"HN-E1", "HN-E2"} <= set(drawn)
    order = [lane.lane_id for lane in gate.lanes]
    assert drawn == sorted(drawn, key=order.index)
    assert set(left_out) == set(lanes[: len(left_out) + 1]) - {"HN-E2"}


class _Producer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, list[tuple[str, bytes]] | None]] = []

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        self.sent.append((topic, value, headers))


async def test_redrive_paces_drops_dlq_headers_and_dry_runs() -> None:
    headers = (
        ("event-type", b"plate_read"),
        ("dlq.source.topic", b"borderflow.plate-reads"),
        ("dlq.error", b"camera_id: unknown"),
    )
    records = [
        _record("borderflow.plate-reads.dlq", i, _read(f"r{i}"), headers=headers) for i in range(5)
    ]
    assert target(records[0], None) == "borderflow.plate-reads"
    assert clean_headers(records[0]) == [("event-type", b"plate_read")]
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    producer = _Producer()
    result = await redrive(
        records,
        producer=producer,
        to_topic=None,
        rate=10.0,
        dry_run=False,
        clock=lambda: now[0],
        sleep=sleep,
    )
    assert result.sent == 5 and result.by_topic == {"borderflow.plate-reads": 5}
    assert now[0] == pytest.approx(0.4)  # 5 records at 10/s: the last one 0.4 s after the first
    assert [h for _, _, h in producer.sent] == [[("event-type", b"plate_read")]] * 5
    quiet = _Producer()
    dry = await redrive(records, producer=quiet, to_topic="x", rate=10.0, dry_run=True)
    assert dry.by_topic == {"x": 5} and quiet.sent == []


async def test_redrive_skips_a_record_with_neither_key_nor_value() -> None:
    """A keyless tombstone in an archived range: aiokafka refuses to send it (its
    AssertionError stopped `borderflow redrive` there, the records after it unsent); it is
    skipped and counted, the others sent."""

    class AiokafkaLike(_Producer):
        async def send_and_wait(
            self,
            topic: str,
            value: bytes | None = None,
            key: bytes | None = None,
            headers: list[tuple[str, bytes]] | None = None,
        ) -> None:
            assert not (value is None and key is None), "Need at least one: key or value"
            await super().send_and_wait(topic, value, key, headers)

    topic = "borderflow.plate-reads"
    empty = replace(_record(topic, 1, b""), key=None, value=None)
    records = [_record(topic, 0, _read("r0")), empty, _record(topic, 2, _read("r2"))]
    producer = AiokafkaLike()
    result = await redrive(records, producer=producer, to_topic=None, rate=None, dry_run=False)
    assert (result.sent, result.skipped) == (2, 1)
    assert [value for _, value, _ in producer.sent] == [records[0].value, records[2].value]


def test_replay_command_refuses_an_unknown_gate_and_a_bad_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    common = ["replay", "--out", str(tmp_path / "out")]
    day, next_day = "2026-11-24T00:00:00+07:00", "2026-11-25T00:00:00+07:00"
    assert main([*common, "--from", day, "--to", next_day, "--gate", "nowhere"]) == 2
    assert "unknown gate 'nowhere'" in capsys.readouterr().err
    assert main([*common, "--from", next_day, "--to", day]) == 2
    assert "--to must be after --from" in capsys.readouterr().err
    assert main([*common, "--from", day, "--to", next_day, "--warm-up", "-3"]) == 2
    assert "--warm-up must be 0 or more hours" in capsys.readouterr().err
    a_file = tmp_path / "day.jsonl"
    a_file.write_text("")
    assert main(["replay", "--out", str(a_file), "--from", day, "--to", next_day]) == 2
    assert "is a file; give a folder" in capsys.readouterr().err


def test_times_without_an_offset_are_refused_not_taken_as_utc(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Found by a stranger's try: an analyst typing the gate's local time (UTC+7) got a
    range seven hours off, silently."""
    for naive in ("2026-11-24T09:00:00", "2026-11-24"):
        with pytest.raises(SystemExit) as exited:
            main(["replay", "--out", "x", "--from", naive, "--to", "2026-11-25T00:00:00Z"])
        assert exited.value.code == 2
        assert "has no UTC offset" in capsys.readouterr().err


def test_archive_export_refuses_what_would_export_nothing_or_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    day, next_day = "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z"
    export = ["archive", "export", "--out", str(tmp_path / "day.jsonl")]
    assert main([*export, "--from", next_day, "--to", day]) == 2
    assert "--to must be after --from" in capsys.readouterr().err
    assert main([*export, "--from", day, "--to", next_day, "--topic", "no.such.topic"]) == 2
    assert "no.such.topic: no such topic" in capsys.readouterr().err
    to_folder = ["archive", "export", "--out", str(tmp_path), "--from", day, "--to", next_day]
    assert main(to_folder) == 2
    assert "is a folder; JSONL goes to a file" in capsys.readouterr().err


def test_a_time_written_right_that_does_not_exist_says_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """2027-02-29 (2027 has no leap day) and month 13 were "not an ISO 8601 time", which
    they are; what is wrong is the day or the month. Garbage is still not ISO 8601."""
    for raw, said in (
        ("2027-02-29T00:00:00+07:00", "is no such time: day is out of range for month"),
        ("2028-13-01T00:00:00+07:00", "is no such time: month must be in 1..12"),
        ("yesterday", "is not an ISO 8601 time"),
    ):
        with pytest.raises(SystemExit) as exited:
            main(["replay", "--out", "x", "--from", raw, "--to", "2028-03-01T00:00:00Z"])
        assert exited.value.code == 2
        assert f"argument --from: {raw!r} {said}" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # the leap day of a leap year is a time: --to is checked
        main(["replay", "--out", "x", "--from", "2028-02-29T00:00:00+07:00", "--to", "x"])
    assert "argument --to: 'x' is not an ISO 8601 time" in capsys.readouterr().err


@pytest.mark.parametrize("hours", [0.25, 0.75, 2.6, 4, 5, 6, 11, 24, 48, 24 * 20])
def test_a_lane_panel_has_room_for_its_time_labels(hours: float) -> None:
    """A panel a third of the page wide over 19:00 to 06:00 had twelve hourly labels run
    into one another ("19:0020:0021:00"); six at most, whatever the range. Over 3 to 5
    hours (an analyst's replay of 02:00 to 06:00), or 10 minutes, the locator found no
    interval and printed matplotlib's 'AutoDateLocator was unable to pick an appropriate
    interval' warning on the replay's terminal, drawing a label every 30 minutes."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    offset = timedelta(hours=-5)
    start = datetime(2028, 1, 1, 0, 30, tzinfo=UTC)
    times = [
        report.on_gate_clock(start + timedelta(minutes=5 * n), offset)
        for n in range(round(12 * hours))
    ]
    fig, axes = plt.subplots(1, 3, figsize=(12, 2.4), sharex=True)
    axes[0].step(times, [n % 3 for n in range(len(times))], where="post")
    report._time_axis(axes[0], offset)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.canvas.draw()
    low, high = axes[0].get_xlim()
    shown = [t for t in axes[0].xaxis.get_majorticklocs() if low <= t <= high]
    plt.close(fig)
    assert 2 <= len(shown) <= report.MAX_TIME_TICKS


def test_two_runs_of_a_replay_write_the_same_bytes(tmp_path: Path) -> None:
    """Every file a replay writes is byte-identical run to run: kpis.json and report.html
    carried the run's wall time ("wall time, s": 9.28, then 6.01), so an analyst's diff of
    two runs of the same day showed a change. It is on the printed summary only."""
    decisions = (_decision("v1", "HN-E1", start_min=30), _decision("v2", "HN-E2", start_min=40))
    written = []
    for run, wall_s in (("a", 9.28), ("b", 6.01)):
        write_outputs(
            tmp_path / run,
            inputs=ReplayInputs(batches=(), manifests=(), recorded=(), batches_recorded=True),
            result=SandboxResult(decisions=decisions, dead_letters=0, batches=1, alerts=()),
            baseline=decisions,
            baseline_label="published decisions",
            scenario=recorded(default_gates()),
            gate_id="huu-nghi",
            start=T0,
            end=T0 + timedelta(hours=6),
            wall_s=wall_s,
            exact=True,
        )
        written.append({f.name: f.read_bytes() for f in sorted((tmp_path / run).iterdir())})
    assert set(written[0]) == {
        "alerts.jsonl",
        "decisions.jsonl",
        "diff.jsonl",
        "kpis.json",
        "report.html",
    }
    assert written[0] == written[1]


def test_a_time_without_its_offset_is_answered_with_the_day_typed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Found replaying 2026-02-28 as an analyst: `--from 2026-03-01` was answered "e.g.
    2026-11-24T00:00:00+07:00", another day; the example is now the time typed, with the
    offsets to choose from."""
    for naive, local in (
        ("2026-03-01", "2026-03-01T00:00:00"),
        ("2026-02-28T23:30", "2026-02-28T23:30:00"),
    ):
        with pytest.raises(SystemExit):
            main(["replay", "--out", "x", "--from", naive, "--to", "2026-03-02T00:00:00Z"])
        said = capsys.readouterr().err
        assert f"e.g. {local}+07:00 (the Huu Nghi gate's local time) or {local}Z" in said


def test_the_report_of_a_gate_without_carriers_draws_no_carrier_chart() -> None:
    """Found replaying Youyiguan's day (no carrier fleet): under "Carrier utilisation" an
    empty plot with an axis from 0.0 to 1.0 and nothing to say why."""
    cn = configured_gates(Path(report.__file__).parents[1] / "gates" / "cn")["youyiguan"]
    assert cn.fleet is None or not cn.fleet.carriers
    decisions = [_decision("v1", "YG-E1", start_min=30)]
    images = report.charts(decisions, decisions, gate=cn)
    assert "carriers" not in images and {"queues", "dwell"} <= set(images)
    assert "carriers" in report.charts(decisions, decisions, gate=default_gates()["huu-nghi"])
