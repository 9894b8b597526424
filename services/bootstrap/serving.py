"""Serving helpers shared by the commands: signals and the API server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Iterator

import uvicorn

from services.api.app import ApiContext, create_app
from services.api.ratelimit import RateLimiter
from services.bootstrap import Infrastructure, control_actions
from services.drivers.guard import CodeGuard
from services.drivers.store import drivers_secret
from services.xborder.facts import gate_corridors
from streams.broker import EmbeddedBroker
from streams.errors import BrokerError
from streams.runtime import is_outage

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, context: ApiContext) -> None:
        super().__init__(config)
        self.context = context

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the supervisor owns the signals
        yield

    def stop(self) -> None:
        """Begin a clean stop: open streams end first (they would hold the shutdown until
        its timeout, then be cancelled mid-response with a traceback)."""
        self.context.stopping.set()
        self.should_exit = True


def port_taken(host: str, port: int) -> str | None:
    """Why the API could not listen on `host:port` now (None: it could)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


async def publish_left(
    what: str,
    drain: Callable[[], Awaitable[object]],
    within_s: float,
    *,
    broker_up: bool = True,
) -> None:
    """At a stop, publish what an outbox still holds, within `within_s`; with the broker or
    the database away it stays in the outbox, and the next start (or a live peer's sweep)
    publishes it: at once when the broker's watch says it is away (`broker_up` False), not
    after `within_s`. Before, `borderflow up` stopped after its broker died ended in a
    traceback from this last drain, status 1, instead of its stop line."""
    if not broker_up:
        log.warning("%s left in the outbox, published at the next start: broker away", what)
        return
    try:
        async with asyncio.timeout(within_s):
            await drain()
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.warning("%s left in the outbox, published at the next start (%r)", what, exc)


async def watch_broker(broker: EmbeddedBroker, stop: asyncio.Event, every_s: float = 1.0) -> None:
    """Returns at `stop`; raises BrokerError when the embedded broker's process exits on its
    own (killed, crashed) before: it keeps nothing and nobody starts it again. Until
    2026-12-06 `borderflow up` and `borderflow broker` went on without it, the workers
    retrying it for ever and the API answering 503, with nothing for a supervisor to see."""
    while not stop.is_set():
        if (code := broker.returncode) is not None:
            raise BrokerError(
                f"the embedded broker on {broker.bootstrap} exited with status {code}; "
                "it kept its topics in memory only"
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)


def install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def api_context(infra: Infrastructure) -> ApiContext:
    return ApiContext(
        sessions=infra.sessions,
        kafka=infra.settings.kafka,
        bootstrap=infra.bootstrap,
        gates=infra.gates,
        default_gate=infra.settings.gate_id,
        limiter=RateLimiter(
            rate=infra.settings.api.rate_per_s, burst=infra.settings.api.rate_burst
        ),
        drivers_secret=drivers_secret(infra.settings.drivers_secret, infra.settings.var_dir),
        public_url=infra.settings.public_url,
        code_guard=CodeGuard(
            burst=infra.settings.drivers.code_failures_burst,
            per_min=infra.settings.drivers.code_failures_per_min,
            total_burst=infra.settings.drivers.code_failures_total_burst,
            total_per_min=infra.settings.drivers.code_failures_total_per_min,
            pair_burst=infra.settings.drivers.plate_failures_burst,
            pair_per_min=infra.settings.drivers.plate_failures_per_min,
            pair_total_burst=infra.settings.drivers.plate_failures_total_burst,
            pair_total_per_min=infra.settings.drivers.plate_failures_total_per_min,
        ),
        control_actions=control_actions(infra.sessions, infra.gates),
        corridors=gate_corridors(infra.settings.gates_dir),
    )


def api_server(infra: Infrastructure) -> _Server:
    api = infra.settings.api
    context = api_context(infra)
    config = uvicorn.Config(
        create_app(context),
        host=api.host,
        port=api.port,
        log_level="warning",
        lifespan="on",
        # open control-room streams (SSE) must not hold a shutdown for their whole lifetime
        timeout_graceful_shutdown=2,
    )
    return _Server(config, context)
