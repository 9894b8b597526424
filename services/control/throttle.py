"""Failed control-room logins, counted to slow down password guessing."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    """Failed logins within a sliding window, per (username, client address) and per client
    address (this process's memory: each API process counts its own). One address gets
    `limit` tries per account per window and `address_limit` in all; guesses from one place
    cannot lock a controller out at another."""

    limit: int
    window_s: float
    address_limit: int = 0  # 0: four times `limit`
    failures: dict[str, deque[float]] = field(default_factory=dict)

    def keys(self, username: str, address: str) -> tuple[str, str]:
        return f"user:{username.casefold()}|addr:{address}", f"addr:{address}"

    def retry_after(self, keys: tuple[str, str], now: float) -> float:
        """Seconds until a login for `keys` may be tried again (0: now)."""
        limits = (self.limit, self.address_limit or 4 * self.limit)
        wait = 0.0
        for key, limit in zip(keys, limits, strict=True):
            times = self.failures.get(key)
            if times is None:
                continue
            while times and times[0] <= now - self.window_s:
                times.popleft()
            if not times:
                del self.failures[key]
            elif len(times) >= limit:
                wait = max(wait, times[-limit] + self.window_s - now)
        return wait

    def failed(self, keys: tuple[str, str], now: float) -> None:
        for key in keys:
            self.failures.setdefault(key, deque()).append(now)

    def succeeded(self, keys: tuple[str, str]) -> None:
        self.failures.pop(keys[0], None)
