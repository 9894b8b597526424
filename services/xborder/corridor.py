"""The corridor of a gate file (`[corridor]`, issue 21): which side the gate is, the other
side's gate, the expected transit and the margin before a truck is overdue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path

from lanes.crossings import Corridor, Side
from services.gates.loader import gate_from_data, read_gate_document
from services.gates.schema import GateConfig
from services.runtime.settings import Settings
from streams.xborder import AckV1, EntryEventV1, RefusalV1, XBorderMessage

CN_GATES = "cn"  # services/gates/cn/: the Chinese side's gate files


@dataclass(frozen=True, slots=True)
class GateCorridor:
    gate_id: str
    side: Side
    peer_gate_id: str
    corridor: Corridor


@dataclass(frozen=True, slots=True)
class CrossingGates:
    """The gates the other side may name in its messages, from this side's corridors: each
    pair (the other side's gate, this side's gate) is a crossing. A side's notice and exit
    leave from one of its own gates to the gate across from it, and its entry is at one
    of its own gates; until 2026-12-06 any id was applied (Vietnam's exit `from_gate`
    youyiguan, China's own gate, was recorded as the crossing's gates)."""

    me: Side
    pairs: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, me: Side, corridors: Mapping[str, GateCorridor]) -> CrossingGates | None:
        """From this side's corridors; None when there is none (nothing to check against)."""
        pairs = frozenset((c.peer_gate_id, c.gate_id) for c in corridors.values() if c.side is me)
        return cls(me, pairs) if pairs else None

    def refusal(self, message: XBorderMessage) -> str | None:
        """Why the gates `message` names are not the sender's / not a crossing, if so (an
        ack or a refusal names none)."""
        if isinstance(message, AckV1 | RefusalV1):
            return None
        sender = message.sender.value
        theirs = sorted({theirs for theirs, _ in self.pairs})
        if isinstance(message, EntryEventV1):
            if message.gate_id in theirs:
                return None
            return (
                f"invalid: gate_id {message.gate_id!r} is not a gate of {sender}: "
                f"{sender}'s entry is at one of its gates ({', '.join(theirs)})"
            )
        kind = message.type.rsplit(".", 1)[-1]
        if message.from_gate not in theirs:
            return (
                f"invalid: from_gate {message.from_gate!r} is not a gate of {sender}: "
                f"{sender}'s {kind} leaves from one of its gates ({', '.join(theirs)})"
            )
        if (message.from_gate, message.to_gate) in self.pairs:
            return None
        crossings = ", ".join(
            f"{a} -> {b}" for a, b in sorted(self.pairs) if a == message.from_gate
        )
        return (
            f"invalid: to_gate {message.to_gate!r} is not across the border from from_gate "
            f"{message.from_gate!r}: the crossings from {sender} to {self.me.value} are "
            f"{crossings}"
        )


def corridor_of(path: str | Path) -> GateCorridor | None:
    """The corridor a gate file declares (the file checked whole), None if it has none."""
    path = Path(path)
    data = read_gate_document(path)
    gate = gate_from_data(data, path.name)  # every fault of the file named, as on start-up
    config = GateConfig.model_validate(data).corridor
    if config is None:
        return None
    return GateCorridor(
        gate_id=str(data["gate_id"]),
        side=Side(config.side),
        peer_gate_id=config.peer_gate_id,
        corridor=Corridor(
            expected_transit=timedelta(minutes=config.expected_transit_min),
            margin=timedelta(minutes=config.margin_min),
            utc_offset=gate.utc_offset,
        ),
    )


def side_gates_dir(side: Side) -> Path | None:
    """The gates folder a side runs with: None (the packaged ones) for Vietnam, the
    packaged `cn/` folder for China."""
    if side is Side.VN:
        return None
    return Path(str(resources.files("services.gates").joinpath(CN_GATES)))


SIDE_GATES = {Side.VN: "huu-nghi", Side.CN: "youyiguan"}


def side_settings(settings: Settings, side: str) -> Settings:
    """The settings of `borderflow up --side`: the side's gate files and gate, and its own
    database and var folder (var/vn, var/cn) so that both can run on one machine."""
    which = Side(side)
    var_dir = settings.var_dir / which.value.lower()
    database = settings.database
    # The default embedded one (no URL set, in the environment or by the caller): one per
    # side. A URL the operator set is kept, even one spelled as the default.
    if "url" not in database.model_fields_set:
        database = database.model_copy(
            update={"url": f"sqlite+aiosqlite:///{var_dir / 'borderflow.db'}"}
        )
    return settings.model_copy(
        update={
            "gates_dir": side_gates_dir(which),
            "gate_id": SIDE_GATES[which],
            "var_dir": var_dir,
            "database": database,
        }
    )
