"""What the simulated trucks carry, and the declaration (manifest) of each crossing.

Much of the export traffic is fresh fruit (durian, dragon fruit, jackfruit...) whose delay
destroys the cargo; about 40% of the trucks carry perishables, about 3% dangerous goods.
Customs has cleared 85% of the declarations, wants 8% inspected and has yet to decide on 7%;
the decided ones carry a risk channel: 80% green, 15% yellow, 5% red (ASSUMPTION).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from lanes.model import CustomsChannel, CustomsStatus, Direction, Manifest
from services.simulation.containers import random_container

FIRMS = tuple(f"firm-{n:02d}" for n in range(1, 21))
_FIRM_WEIGHTS = tuple(1 / n for n in range(1, 21))  # a few large forwarders, a long tail

_FRUIT = {
    Direction.EXPORT: (
        "fresh durian",
        "fresh dragon fruit",
        "fresh jackfruit",
        "fresh mango",
        "fresh banana",
        "fresh longan",
        "fresh lychee",
        "fresh rambutan",
        "fresh passion fruit",
        "fresh watermelon",
    ),
    Direction.IMPORT: (
        "fresh apples",
        "fresh pears",
        "fresh grapes",
        "fresh mandarins",
        "fresh garlic",
    ),
}
_GENERAL = {
    Direction.EXPORT: (
        "cassava starch",
        "natural rubber",
        "cashew nuts",
        "wooden furniture",
        "garments",
        "electronic components",
        "milled rice",
    ),
    Direction.IMPORT: (
        "consumer electronics",
        "electronic components",
        "machinery parts",
        "textile fabric",
        "fertiliser",
        "steel coils",
        "solar panels",
        "auto parts",
    ),
}
_HAZMAT = (
    ("paint and solvents", "3"),
    ("industrial ethanol", "3"),
    ("lithium-ion batteries", "9"),
    ("industrial acids", "8"),
    ("LPG cylinders", "2.1"),
)
# Shares of perishables per direction: 0.6 * 0.55 + 0.4 * 0.175 = 0.40 of all trucks.
_PERISHABLE_SHARE = {Direction.EXPORT: 0.55, Direction.IMPORT: 0.175}
_HAZMAT_SHARE_OF_OTHERS = 0.05  # 0.6 * 0.05 = 0.03 of all trucks
_STATUSES = (CustomsStatus.CLEARED, CustomsStatus.INSPECT, CustomsStatus.PENDING)
_STATUS_WEIGHTS = (85, 8, 7)
# The channel given a status, so that of the 93% decided, 80% are green, 15% yellow, 5% red:
# a cleared truck is green, or yellow when picked for a scan (85 * 0.125 = 10.6 points); one
# to inspect is red, or yellow when a scan will do (8 * 0.42 = 3.4): 74.4, 14 and 4.6 of 93.
_GREEN, _YELLOW, _RED = CustomsChannel.GREEN, CustomsChannel.YELLOW, CustomsChannel.RED
_CHANNELS: dict[CustomsStatus, tuple[tuple[CustomsChannel, ...], tuple[float, ...]]] = {
    CustomsStatus.CLEARED: ((_GREEN, _YELLOW), (0.875, 0.125)),
    CustomsStatus.INSPECT: ((_RED, _YELLOW), (0.58, 0.42)),
}


def random_manifest(
    rng: random.Random,
    *,
    manifest_id: str,
    direction: Direction,
    tractor_plate: str,
    trailer_plate: str | None,
    arrival: datetime,
) -> Manifest:
    """A declaration for a truck arriving at `arrival`; plates are passed in normalised."""
    hazmat_class: str | None = None
    perishable = rng.random() < _PERISHABLE_SHARE[direction]
    if perishable:
        cargo = rng.choice(_FRUIT[direction])
    elif rng.random() < _HAZMAT_SHARE_OF_OTHERS:
        cargo, hazmat_class = rng.choice(_HAZMAT)
    else:
        cargo = rng.choice(_GENERAL[direction])
    container_count = rng.choices((0, 1, 2), weights=(25, 55, 20))[0]
    window_start = arrival - timedelta(minutes=rng.randint(45, 75))
    window_end = arrival + timedelta(minutes=rng.randint(150, 210))
    status = rng.choices(_STATUSES, weights=_STATUS_WEIGHTS)[0]
    channel = None  # pending: customs has not decided yet
    if status in _CHANNELS:
        channels, weights = _CHANNELS[status]
        channel = rng.choices(channels, weights=weights)[0]
    return Manifest(
        manifest_id=manifest_id,
        firm_id=rng.choices(FIRMS, weights=_FIRM_WEIGHTS)[0],
        direction=direction,
        tractor_plate=tractor_plate,
        trailer_plate=trailer_plate,
        containers=tuple(random_container(rng) for _ in range(container_count)),
        cargo_description=cargo,
        perishable=perishable,
        hazmat_class=hazmat_class,
        customs_status=status,
        window_start=window_start.replace(second=0, microsecond=0),
        window_end=window_end.replace(second=0, microsecond=0),
        customs_channel=channel,
    )
