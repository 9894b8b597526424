"""`borderflow xborder link` (the link worker against a running side) and
`borderflow xborder keygen` (a new Ed25519 key pair for one side)."""

from __future__ import annotations

import asyncio
import logging

from lanes.crossings import Side
from services.bootstrap import infrastructure
from services.bootstrap.serving import install_stop_signals
from services.runtime.metrics import serve_worker_metrics
from services.runtime.settings import Settings
from services.xborder.config import XborderSettings
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
        link = Link(
            settings=xsettings,
            kafka=settings.kafka,
            bootstrap=infra.bootstrap,
            sessions=infra.sessions,
            producer=infra.producer,
            corridors=gate_corridors(settings.gates_dir),
            gates=infra.gates,
        )
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
