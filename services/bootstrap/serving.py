"""Serving helpers shared by the commands: signals and the API server."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import uvicorn

from services.api.app import ApiContext, create_app
from services.api.ratelimit import RateLimiter
from services.bootstrap import Infrastructure, control_actions
from services.drivers.guard import CodeGuard
from services.drivers.store import drivers_secret
from services.xborder.facts import gate_corridors


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
