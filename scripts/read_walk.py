"""The walk of one plate read from the consumer to its decision (issue 20): which of
borderflow's functions run, in which modules, and how often a call climbs back up a layer.

Builds a decider as the composition root does (`bootstrap.make_decider`: the consumer's
entry point, the decide-reads use case, the SQL adapter of the gate's state, the outboxes)
on a fresh SQLite database (the packaged Huu Nghi gate, one cleared manifest) with a
producer that only records, decodes one read as the consumer runtime does
(`Decider.decode`) and hands it to `Decider.handle`, under `sys.setprofile`. Counted: the
functions of lanes/, streams/, services/ and plate_recognition/ called (comprehensions,
lambdas and generator expressions left out), their modules, and the distinct caller ->
callee pairs whose callee sits in a higher layer than its caller (RANKS below; decorator
wrappers are looked through; the first call, into `decode`, is the runtime's entry).

Run: .venv/bin/python scripts/read_walk.py [--list]
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from aiokafka.structs import ConsumerRecord

from lanes.model import Manifest
from lanes.policy import OrchestratedPolicy
from lanes.values import CustomsStatus, Direction
from services.adapters.sql_gate import sql_gate_stores
from services.bootstrap import make_decider, open_database
from services.db.manifests import upsert_manifests
from services.gates.loader import default_gates
from services.runtime.settings import DatabaseSettings
from streams.runtime import Inbound

PACKAGES = ("lanes", "streams", "services", "plate_recognition")
# higher numbers are higher layers, as the import contracts of pyproject.toml order them: in
# services/, the command line over the composition root, over the entry points, over the use
# cases, over the adapters, over the ports, over the database, over settings and gate files;
# then the stream runtime, the recognition, the domain
RANKS = (
    ("services.cli", 11),
    ("services.replay", 10),
    ("services.simulation", 10),
    ("services.bootstrap", 9),
    ("services.workers", 8),
    ("services.api", 8),
    ("services.control", 8),
    ("services.xborder", 8),  # spans several layers; left out of the contract
    ("services.service_layer", 7),
    ("services.adapters", 6),
    ("services.alerts", 6),
    ("services.archive", 6),
    ("services.drivers", 6),
    ("services.notify", 6),
    ("services.ports", 5),
    ("services.db", 4),
    ("services.runtime", 3),
    ("services.gates", 3),
    ("streams", 2),
    ("plate_recognition", 1),
    ("lanes", 0),
)
T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def rank(module: str) -> int:
    return next(r for prefix, r in RANKS if module == prefix or module.startswith(prefix + "."))


class _Producer:
    """Records what would be sent; every send is acknowledged at once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    async def send(self, topic: str, value: bytes, **_: Any) -> asyncio.Future[None]:
        self.sent.append((topic, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


class Walk:
    def __init__(self) -> None:
        self.functions: dict[str, int] = {}  # module:qualname -> order of first call
        self.climbs: set[tuple[str, str]] = set()  # distinct (caller, callee)
        self.on = False

    def profile(self, frame: FrameType, event: str, _arg: object) -> None:
        if not self.on or event != "call":
            return
        code = frame.f_code
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(PACKAGES) or code.co_name.startswith("<"):
            return
        name = f"{module}:{code.co_qualname}"
        self.functions.setdefault(name, len(self.functions))
        caller = frame.f_back
        while caller is not None:  # the nearest project function up the stack (a
            # decorator's wrapper, `<locals>`, is looked through)
            c_module = caller.f_globals.get("__name__", "")
            c_name = caller.f_code.co_qualname
            if c_module.startswith(PACKAGES) and "<" not in c_name:
                break
            caller = caller.f_back
        if caller is not None and rank(c_module) < rank(module):
            self.climbs.add((f"{c_module}:{c_name}", name))


async def walk() -> Walk:
    gate = default_gates()["huu-nghi"]
    camera = next(
        c for c in gate.cameras if c.direction is Direction.EXPORT and c.role == "gate_in"
    )
    with tempfile.TemporaryDirectory() as tmp:
        settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{Path(tmp) / 'walk.db'}")
        async with open_database(settings, gates={gate.gate_id: gate}) as sessions:
            async with sessions() as session, session.begin():
                manifest = Manifest(
                    "MF-1",
                    "firm-01",
                    Direction.EXPORT,
                    "29H12345",
                    customs_status=CustomsStatus.CLEARED,
                )
                await upsert_manifests(
                    session=session, manifests=[manifest], now=T0 - timedelta(days=1)
                )
            producer = _Producer()
            decider = make_decider(
                stores=sql_gate_stores(sessions),
                producer=producer,  # type: ignore[arg-type]
                gates={gate.gate_id: gate},
                policy=OrchestratedPolicy(),
            )
            await decider.handle([])  # start-up work (the outbox's first drain) done before
            read = {
                "event_id": "r-1",
                "camera_id": camera.camera_id,
                "captured_at": T0.isoformat(),
                "plate_text": "29H12345",
                "confidence": 0.93,
            }
            record = ConsumerRecord(
                "borderflow.plate-reads",
                0,
                0,
                int(T0.timestamp() * 1000),
                0,
                b"cam",
                json.dumps(read).encode(),
                None,
                3,
                len(read),
                (),
            )
            found = Walk()
            hook: Callable[..., Any] = found.profile
            sys.setprofile(hook)
            found.on = True
            try:
                event = decider.decode(record)
                await decider.handle([Inbound(record.topic, 0, 0, b"cam", event)])
            finally:
                found.on = False
                sys.setprofile(None)
            assert len(producer.sent) == 1, producer.sent
            return found


def main() -> int:
    found = asyncio.run(walk())
    modules = {name.split(":")[0] for name in found.functions}
    outside = [n for n in found.functions if not n.startswith("lanes")]
    print(
        f"one read, consumer to decision: {len(found.functions)} functions in "
        f"{len(modules)} modules ({len(outside)} functions in "
        f"{len({n.split(':')[0] for n in outside})} modules outside the domain, lanes/); "
        f"{len(found.climbs)} distinct calls climb back up a layer"
    )
    if "--list" in sys.argv:
        for name in sorted(found.functions, key=found.functions.__getitem__):
            print("  ", name)
        for caller, callee in sorted(found.climbs):
            print("  climb:", caller, "->", callee)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
