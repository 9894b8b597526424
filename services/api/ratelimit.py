"""Per-API-key rate limits: a token bucket per key, in this API process.

A key may make `burst` requests at once and `rate` a second after that; one more answers 429
with `Retry-After` (whole seconds until a token is back). The buckets live in the process:
behind several API replicas each enforces its own share (a shared limiter is deployment
work, issue 9)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    rate: float  # tokens per second
    burst: int
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    clock: object = time.monotonic

    def take(self, key: str) -> float | None:
        """None if `key` may go ahead (a token taken); else the seconds until it may."""
        now = self.clock()  # type: ignore[operator]
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
