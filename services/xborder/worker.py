"""`borderflow xborder link` (the link worker against a running side) and
`borderflow xborder keygen` (a new Ed25519 key pair for one side)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from lanes.crossings import Side
from services.bootstrap import infrastructure
from services.bootstrap.serving import install_stop_signals
from services.runtime.metrics import serve_worker_metrics
from services.runtime.settings import Settings
from services.xborder.config import XborderSettings
from services.xborder.corridor import GateCorridor, side_gates_dir
from services.xborder.facts import gate_corridors
from services.xborder.link import Link
from streams.xborder_sign import SigningKey

log = logging.getLogger(__name__)


async def run_link(settings: Settings, xsettings: XborderSettings | None = None) -> int:
    """The link of this side (`BORDERFLOW_XBORDER_*`) until SIGINT/SIGTERM."""
    xsettings = xsettings if xsettings is not None else XborderSettings()
    stop = asyncio.Event()
    install_stop_signals(stop)
    serve_worker_metrics(settings.metrics_port)
    async with infrastructure(settings, allow_embedded=False) as infra:
        corridors = gate_corridors(settings.gates_dir)
        link = Link(
            settings=xsettings,
            kafka=settings.kafka,
            bootstrap=infra.bootstrap,
            sessions=infra.sessions,
            producer=infra.producer,
            corridors=corridors,
            gates=infra.gates,
        )
        if (warning := no_corridor_warning(xsettings.side, corridors, settings)) is not None:
            log.warning("%s", warning)
        log.info(
            "cross-border link of %s: key %s, %d trusted key(s) of %s, sending to %s on %s",
            xsettings.side.value,
            link.key.key_id,
            len(link.trusted.keys),
            xsettings.side.other.value,
            xsettings.target(),
            xsettings.peer_bootstrap or infra.bootstrap,
        )
        await link.run(stop)
    return 0


def no_corridor_warning(
    side: Side, corridors: Mapping[str, GateCorridor], settings: Settings
) -> str | None:
    """What a link whose gate files declare no `[corridor]` of its side does not do, or None.
    It ran so in silence until 2026-12-06 (China's link started with Vietnam's gate files,
    `BORDERFLOW_GATES_DIR` forgotten, published none of China's facts)."""
    if any(c.side is side for c in corridors.values()):
        return None
    where = settings.gates_dir or "the packaged gate files"
    fix = (
        f"set BORDERFLOW_GATES_DIR to {side.value}'s gate files (services/gates/cn)"
        if side_gates_dir(side) is not None
        else f"unset BORDERFLOW_GATES_DIR ({side.value}'s are the packaged gate files)"
    )
    return (
        f'no gate file in {where} declares a [corridor] with side = "{side.value}": none of '
        f"{side.value}'s crossing facts are published and the gates in {side.other.value}'s "
        f"messages are not checked; {fix}"
    )


def keygen_lines(side: Side, key_id: str) -> list[str]:
    """The settings of a new key: the private half for this side, the public half for the
    other side's trusted keys."""
    key = SigningKey.generate(key_id, side)
    return [
        f"# this side ({side.value}): keep secret",
        f"BORDERFLOW_XBORDER_SIDE={side.value}",
        f"BORDERFLOW_XBORDER_SIGNING_KEY_ID={key_id}",
        f"BORDERFLOW_XBORDER_SIGNING_KEY={key.private_base64()}",
        f"# the other side ({side.other.value}): add to BORDERFLOW_XBORDER_TRUSTED_KEYS",
        f'"{key_id}": "{key.public_base64()}"',
    ]
