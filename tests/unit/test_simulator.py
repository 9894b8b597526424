"""The traffic simulator: a deterministic, realistic plan, and paced publishing."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from lanes.model import Camera, CameraRole, CustomsChannel, CustomsStatus, Direction, Gate
from lanes.plates import normalise_plate
from services.gates.loader import get_gate
from services.simulation.plan import PEAK_HOURS
from services.simulation.plates import cn_plate, misread, vn_plate
from services.simulation.traffic import (
    EARLY_S,
    MAX_NAP_S,
    PRODUCER_NAME,
    TrafficPlan,
    check_digit,
    is_plain,
    is_valid_container,
    plan_summary,
    plan_traffic,
    publish_reads,
)
from streams.codec import decode_plate_read
from streams.events import PlateReadV1
from streams.topics import PLATE_READS

HUU_NGHI = get_gate("huu-nghi")
START = datetime(2025, 6, 1, 0, 0, tzinfo=UTC)  # 07:00 in Lang Son
VN_TRACTOR = re.compile(r"\d{2}(C|H|LD)\d{4,5}")
VN_TRAILER = re.compile(r"\d{2}R\d{4,5}")
CN_TRACTOR = re.compile(r"[\u4e00-\u9fff][A-HJ-NP-Z][0-9A-HJ-NP-Z]{5}")
GATE_IN = CameraRole.GATE_IN
CN_TRAILER = re.compile(r"[\u4e00-\u9fff][A-HJ-NP-Z]\d{4}挂")


@pytest.fixture(scope="module")
def plan() -> TrafficPlan:
    return plan_traffic(gate=HUU_NGHI, trucks=2000, start=START, seed=42)


def _reads_by_id(plan: TrafficPlan) -> dict[str, PlateReadV1]:
    return {read.event_id: read for read in plan.reads}


# --- ISO 6346 ------------------------------------------------------------------------------


def test_check_digit_of_the_known_example() -> None:
    assert check_digit("CSQU305438") == 3
    assert is_valid_container("CSQU3054383")


@pytest.mark.parametrize(
    "number", ["CSQU3054384", "CSQU305438", "CSQX3054383", "CS1U3054383", "CSQU30543A3", ""]
)
def test_invalid_container_numbers_are_refused(number: str) -> None:
    assert not is_valid_container(number)


# --- the plan ------------------------------------------------------------------------------


def test_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    def make(seed: int) -> TrafficPlan:
        return plan_traffic(gate=HUU_NGHI, trucks=200, start=START, seed=seed)

    assert make(7) == make(7)
    assert make(7).reads != make(8).reads
    assert make(7).manifests != make(8).manifests


def test_proportions_are_roughly_right(plan: TrafficPlan) -> None:
    trucks = plan.trucks
    assert len(trucks) == 2000
    unknown = sum(1 for t in trucks if t.manifest_id is None) / len(trucks)
    assert 0.03 <= unknown <= 0.07
    exports = sum(1 for t in trucks if t.direction is Direction.EXPORT) / len(trucks)
    assert 0.55 <= exports <= 0.65
    per_truck = Counter(len(t.read_ids) for t in trucks)
    assert set(per_truck) == {2, 3, 4, 5}
    assert len(plan.reads) == sum(len(t.read_ids) for t in trucks)

    manifests = plan.manifests
    assert 0.34 <= sum(m.perishable for m in manifests) / len(manifests) <= 0.46
    assert 0.01 <= sum(m.hazmat_class is not None for m in manifests) / len(manifests) <= 0.05
    statuses = Counter(m.customs_status for m in manifests)
    assert 0.80 <= statuses[CustomsStatus.CLEARED] / len(manifests) <= 0.90
    assert statuses[CustomsStatus.INSPECT] > 0
    assert statuses[CustomsStatus.PENDING] > 0
    assert 0.75 <= sum(m.trailer_plate is not None for m in manifests) / len(manifests) <= 0.95

    noisy = sum(len(t.noisy_read_ids) for t in trucks) / len(plan.reads)
    assert 0.07 <= noisy <= 0.13


def test_decided_manifests_carry_a_customs_channel(plan: TrafficPlan) -> None:
    decided = [m for m in plan.manifests if m.customs_status is not CustomsStatus.PENDING]
    channels = Counter(m.customs_channel for m in decided)
    assert 0.76 <= channels[CustomsChannel.GREEN] / len(decided) <= 0.84
    assert 0.12 <= channels[CustomsChannel.YELLOW] / len(decided) <= 0.18
    assert 0.03 <= channels[CustomsChannel.RED] / len(decided) <= 0.07
    assert None not in channels
    assert all(
        m.customs_channel is None
        for m in plan.manifests
        if m.customs_status is CustomsStatus.PENDING
    )
    inspected = {m.customs_channel for m in decided if m.customs_status is CustomsStatus.INSPECT}
    assert inspected == {CustomsChannel.YELLOW, CustomsChannel.RED}


def test_arrivals_peak_in_the_local_daytime(plan: TrafficPlan) -> None:
    assert all(START <= t.arrival < START + timedelta(hours=24) for t in plan.trucks)
    local = timezone(HUU_NGHI.utc_offset)
    daytime = sum(1 for t in plan.trucks if t.arrival.astimezone(local).hour in PEAK_HOURS)
    assert daytime / len(plan.trucks) >= 0.65  # half the hours, about three quarters of trucks


def test_arrivals_peak_in_the_daytime_of_the_gate_s_own_clock() -> None:
    """The peak was 07:00-19:00 in Lang Son (+07:00) at every gate: at a gate of a person's
    own file at -05:00 most trucks came at night (found by a stranger's try)."""
    gate = replace(HUU_NGHI, utc_offset=timedelta(hours=-5))
    plan = plan_traffic(gate=gate, trucks=400, start=START, seed=2)
    local = timezone(gate.utc_offset)
    daytime = sum(1 for t in plan.trucks if t.arrival.astimezone(local).hour in PEAK_HOURS)
    assert daytime / len(plan.trucks) >= 0.65


def test_every_container_number_is_valid(plan: TrafficPlan) -> None:
    containers = [c for m in plan.manifests for c in m.containers]
    assert containers
    assert all(is_valid_container(c) for c in containers)
    assert all(len(m.containers) <= 2 for m in plan.manifests)


def test_manifests_hold_normalised_plates_of_the_right_format(plan: TrafficPlan) -> None:
    truck_of = {t.manifest_id: t for t in plan.trucks if t.manifest_id}
    assert len({m.manifest_id for m in plan.manifests}) == len(plan.manifests)
    for m in plan.manifests:
        truck = truck_of[m.manifest_id]
        assert m.tractor_plate == normalise_plate(m.tractor_plate) == truck.plate
        assert m.direction is truck.direction
        assert re.fullmatch(r"MF-42-\d{5}", m.manifest_id)
        assert re.fullmatch(r"firm-\d{2}", m.firm_id)
        assert m.cargo_description
        assert m.window_start is not None and m.window_end is not None
        assert m.window_start < truck.arrival < m.window_end
        if m.direction is Direction.EXPORT:
            assert VN_TRACTOR.fullmatch(m.tractor_plate), m.tractor_plate
            trailer = VN_TRAILER
        else:
            assert CN_TRACTOR.fullmatch(m.tractor_plate), m.tractor_plate
            trailer = CN_TRAILER
        if m.trailer_plate is not None:
            assert m.trailer_plate == normalise_plate(m.trailer_plate)
            assert trailer.fullmatch(m.trailer_plate), m.trailer_plate


def test_tractor_plates_are_unique_in_a_plan(plan: TrafficPlan) -> None:
    assert len({t.plate for t in plan.trucks}) == len(plan.trucks)


def test_reads_are_sorted_and_unique(plan: TrafficPlan) -> None:
    keys = [(r.captured_at, r.event_id) for r in plan.reads]
    assert keys == sorted(keys)
    assert len(set(_reads_by_id(plan))) == len(plan.reads)


def test_each_truck_passes_its_direction_cameras_in_order(plan: TrafficPlan) -> None:
    reads = _reads_by_id(plan)
    for truck in plan.trucks:
        own = [reads[i] for i in truck.read_ids]
        cameras = [HUU_NGHI.camera(r.camera_id) for r in own]
        assert all(c is not None and c.direction is truck.direction for c in cameras)
        roles = [c.role for c in cameras if c is not None]
        approach = roles.count(CameraRole.APPROACH)
        assert 1 <= approach <= 3
        assert roles == [CameraRole.APPROACH] * approach + [GATE_IN] * (len(roles) - approach)
        assert 1 <= len(roles) - approach <= 2
        assert (
            len({r.camera_id for r, role in zip(own, roles, strict=True) if role is GATE_IN}) == 1
        )
        assert own[0].captured_at == truck.arrival
        assert own[-1].captured_at - truck.arrival <= timedelta(minutes=5)


def test_reads_carry_candidates_and_plausible_confidence(plan: TrafficPlan) -> None:
    printed_with_separator = 0
    for read in plan.reads:
        assert 0.6 <= read.confidence <= 0.99
        assert read.candidates[0].text == read.plate_text
        assert read.candidates[0].confidence == read.confidence
        assert 2 <= len(read.candidates) <= 3
        confidences = [c.confidence for c in read.candidates]
        assert confidences == sorted(confidences, reverse=True)
        assert len(set(confidences)) == len(confidences)
        printed_with_separator += read.plate_text != normalise_plate(read.plate_text)
    assert 0.3 * len(plan.reads) < printed_with_separator < 0.9 * len(plan.reads)


def test_noisy_reads_have_the_true_plate_among_their_candidates(plan: TrafficPlan) -> None:
    reads = _reads_by_id(plan)
    for truck in plan.trucks:
        for event_id in truck.read_ids:
            read = reads[event_id]
            if event_id not in truck.noisy_read_ids:
                assert normalise_plate(read.plate_text) == truck.plate
                continue
            assert normalise_plate(read.plate_text) != truck.plate
            true = [c for c in read.candidates if normalise_plate(c.text) == truck.plate]
            assert len(true) == 1
            assert true[0].confidence < read.confidence


def test_noise_zero_and_no_unknown_trucks() -> None:
    plan = plan_traffic(
        gate=HUU_NGHI, trucks=300, start=START, seed=1, unknown_share=0.0, noise=0.0
    )
    assert plan_summary(plan)["noisy_reads"] == 0
    assert plan_summary(plan)["unknown_trucks"] == 0
    assert len(plan.manifests) == 300


def test_plan_summary_counts(plan: TrafficPlan) -> None:
    summary = plan_summary(plan)
    assert summary["trucks"] == 2000
    assert summary["reads"] == len(plan.reads)
    assert summary["manifests"] + summary["unknown_trucks"] == 2000
    assert summary["export"] + summary["import"] == 2000
    assert summary["noisy_reads"] == sum(len(t.noisy_read_ids) for t in plan.trucks)


def test_a_gate_with_cameras_for_one_direction_only_gets_that_traffic() -> None:
    gate = Gate(
        gate_id="test-gate",
        name="Test",
        cameras=(
            Camera("t-imp-approach", "test-gate", Direction.IMPORT, CameraRole.APPROACH),
            Camera("t-imp-gate", "test-gate", Direction.IMPORT, CameraRole.GATE_IN),
            Camera("t-exp-gate", "test-gate", Direction.EXPORT, CameraRole.GATE_IN),
        ),
        lanes=(),
    )
    plan = plan_traffic(gate=gate, trucks=50, start=START, seed=3)
    assert {t.direction for t in plan.trucks} == {Direction.IMPORT}
    assert {r.camera_id for r in plan.reads} == {"t-imp-approach", "t-imp-gate"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gate": Gate("g", "no cameras", (), ())}, "no direction"),
        ({"start": datetime(2025, 6, 1)}, "timezone-aware"),
        ({"trucks": -1}, "trucks"),
        ({"span": timedelta(0)}, "span"),
        ({"noise": 1.5}, "noise"),
        ({"unknown_share": -0.1}, "unknown_share"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"gate": HUU_NGHI, "trucks": 5, "start": START, "seed": 1}
    with pytest.raises(ValueError, match=message):
        plan_traffic(**(arguments | kwargs))


def test_misread_changes_the_plate_and_may_lose_the_province() -> None:
    rng = random.Random(5)
    lost_province = 0
    for _ in range(200):
        plate = cn_plate(rng) if rng.random() < 0.5 else vn_plate(rng)
        printed = rng.choice(plate.forms)
        wrong = misread(printed, rng)
        if wrong is None:
            continue
        assert normalise_plate(wrong) != plate.text
        assert len(wrong) == len(printed) or wrong == printed[1:]
        lost_province += wrong == printed[1:]
    assert lost_province > 0
    assert misread("34-67", rng) is None


# --- publishing ----------------------------------------------------------------------------


@dataclass
class Sent:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    at: float


@dataclass
class FakeClock:
    now: float = 0.0
    naps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.now += seconds


class FakeProducer:
    """Records each send and returns an already-completed delivery future."""

    def __init__(self, clock: FakeClock, fail_at: int | None = None) -> None:
        self.clock = clock
        self.sent: list[Sent] = []
        self.timestamps: list[int | None] = []  # the records' timestamps (ms)
        self.fail_at = fail_at

    async def send(
        self,
        topic: str,
        value: bytes,
        key: bytes,
        headers: list[tuple[str, bytes]] | None = None,
        timestamp_ms: int | None = None,
    ) -> asyncio.Future[None]:
        self.sent.append(Sent(topic, key, value, list(headers or []), self.clock.now))
        self.timestamps.append(timestamp_ms)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if len(self.sent) == self.fail_at:
            future.set_exception(RuntimeError("delivery failed"))
        else:
            future.set_result(None)
        return future


@pytest.fixture(scope="module")
def small_plan() -> TrafficPlan:
    return plan_traffic(gate=HUU_NGHI, trucks=120, start=START, seed=9, span=timedelta(hours=2))


async def test_reads_go_out_at_their_scaled_time(small_plan: TrafficPlan) -> None:
    clock = FakeClock(now=1000.0)
    producer = FakeProducer(clock)
    sent = await publish_reads(
        producer, small_plan.reads, speedup=60, sim_start=START, clock=clock, sleep=clock.sleep
    )
    assert sent == len(small_plan.reads) == len(producer.sent)
    for read, message in zip(small_plan.reads, producer.sent, strict=True):
        due = 1000.0 + (read.captured_at - START).total_seconds() / 60
        assert due - EARLY_S <= message.at <= due + 1e-9
        assert message.topic == PLATE_READS.name
        assert message.key == read.camera_id.encode()
    # each record is stamped with the simulated camera's clock (the door's clock check)
    assert producer.timestamps == [int(r.captured_at.timestamp() * 1000) for r in small_plan.reads]
    assert max(clock.naps) <= MAX_NAP_S
    assert clock.now == pytest.approx(
        1000.0 + (small_plan.reads[-1].captured_at - START).total_seconds() / 60, abs=EARLY_S
    )


@pytest.mark.parametrize("speedup", [0, float("inf")])
async def test_no_pacing_sends_at_once(small_plan: TrafficPlan, speedup: float) -> None:
    clock = FakeClock()
    producer = FakeProducer(clock)
    sent = await publish_reads(
        producer, small_plan.reads, speedup=speedup, sim_start=START, clock=clock, sleep=clock.sleep
    )
    assert sent == len(small_plan.reads)
    assert clock.naps == []


async def test_a_share_goes_out_plain_and_the_rest_enveloped(small_plan: TrafficPlan) -> None:
    clock = FakeClock()
    producer = FakeProducer(clock)
    await publish_reads(producer, small_plan.reads, speedup=0, sim_start=START, plain_share=0.3)
    plain = 0
    for read, message in zip(small_plan.reads, producer.sent, strict=True):
        body = json.loads(message.value)
        assert decode_plate_read(message.value) == read
        if is_plain(read.event_id, 0.3):
            plain += 1
            assert body == json.loads(read.model_dump_json())
            assert message.headers == []
        else:
            assert body["event_id"] == read.event_id
            assert body["type"] == "plate_read"
            assert body["version"] == 1
            assert body["producer"] == PRODUCER_NAME
            assert datetime.fromisoformat(body["occurred_at"]) == read.captured_at
            assert ("event-type", b"plate_read") in message.headers
    assert 0.2 <= plain / len(small_plan.reads) <= 0.4


@pytest.mark.parametrize(("share", "expected_plain"), [(0.0, False), (1.0, True)])
async def test_plain_share_bounds(
    small_plan: TrafficPlan, share: float, expected_plain: bool
) -> None:
    producer = FakeProducer(FakeClock())
    await publish_reads(
        producer, small_plan.reads[:50], speedup=0, sim_start=START, plain_share=share
    )
    assert all(("data" not in json.loads(m.value)) is expected_plain for m in producer.sent)


async def test_stop_ends_publishing_early(small_plan: TrafficPlan) -> None:
    clock = FakeClock()
    producer = FakeProducer(clock)
    stop = asyncio.Event()
    counts: list[int] = []

    def on_sent(count: int) -> None:
        counts.append(count)
        if count == 5:
            stop.set()

    sent = await publish_reads(
        producer,
        small_plan.reads,
        speedup=1,
        sim_start=START,
        stop=stop,
        on_sent=on_sent,
        clock=clock,
        sleep=clock.sleep,
    )
    assert sent == 5 == len(producer.sent)
    assert counts == [1, 2, 3, 4, 5]


async def test_stop_interrupts_a_long_wait() -> None:
    plan = plan_traffic(gate=HUU_NGHI, trucks=2, start=START, seed=1)
    clock = FakeClock()
    stop = asyncio.Event()

    async def sleep(seconds: float) -> None:
        await clock.sleep(seconds)
        if clock.now >= 1.0:
            stop.set()

    producer = FakeProducer(clock)
    late = [r.model_copy(update={"captured_at": START + timedelta(hours=1)}) for r in plan.reads]
    sent = await publish_reads(
        producer, late, speedup=1, sim_start=START, stop=stop, clock=clock, sleep=sleep
    )
    assert sent == 0
    assert clock.now < 1.0 + MAX_NAP_S


async def test_a_failed_delivery_raises(small_plan: TrafficPlan) -> None:
    producer = FakeProducer(FakeClock(), fail_at=3)
    with pytest.raises(RuntimeError, match="delivery failed"):
        await publish_reads(producer, small_plan.reads, speedup=0, sim_start=START)


async def test_a_negative_speedup_is_refused(small_plan: TrafficPlan) -> None:
    with pytest.raises(ValueError, match="speedup"):
        await publish_reads(
            FakeProducer(FakeClock()), small_plan.reads, speedup=-1, sim_start=START
        )
