"""The demo's share of anomalous trucks (issue 22 follow-up): `borderflow up --anomalies`."""

from __future__ import annotations

import math

import pytest

from services.simulation.anomalies import DEMO_ANOMALY_RATE, KINDS
from services.simulation.traffic import MIN_TRUCKS_FOR_ANOMALIES, demo_anomalies


def test_the_default_share_spreads_over_every_kind() -> None:
    spec = demo_anomalies(3000, DEMO_ANOMALY_RATE)
    assert spec is not None and spec.per_kind == round(3000 * DEMO_ANOMALY_RATE / len(KINDS))
    assert demo_anomalies(MIN_TRUCKS_FOR_ANOMALIES, 0.001) == demo_anomalies(900, 0.001)
    assert demo_anomalies(900, 0.001) is not None  # at least one of each kind


def test_off_for_zero_or_a_small_day() -> None:
    assert demo_anomalies(3000, 0) is None
    assert demo_anomalies(MIN_TRUCKS_FOR_ANOMALIES - 1, 0.5) is None


@pytest.mark.parametrize("rate", [-0.01, 1.5, math.nan])
def test_a_share_outside_0_1_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="anomaly rate"):
        demo_anomalies(3000, rate)
