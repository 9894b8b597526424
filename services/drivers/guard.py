"""Failed short-code lookups, limited (`/d/c/{code}` and the form at `/d`).

A code is 8 characters of 32 (40 bits), printed at the waiting area: a client that could
try codes as fast as the server answers would find a live truck's page in time. Each client
address (an IPv6 address by its /64, which one subscriber holds) has a token bucket of
failed lookups: `burst` at once, then `per_min` a minute; an empty bucket refuses the
address's next lookup (429) until a token is back. All addresses together have another
(`total_burst`, `total_per_min`), against guesses spread over many addresses: while it is
empty, an address that failed within the time its own bucket takes to fill again is
refused too, so a distributed guess makes one try per address in that time. An address
with no recent failure is always looked up: a driver typing the code right is never held
back by others' failures. A found code spends nothing, and gives back the address's last
failure (and the total's), once per code in the time an empty bucket takes to fill: a
driver's typo before their own code costs nothing in the end, so the drivers on one shared
address (a carrier's NAT, the waiting area's Wi-Fi) who each type wrong then right never
empty its bucket together; a truck's own code typed between guesses buys one guess in that
time, no more. A guesser on that address who keeps its bucket empty still holds its drivers
back (their lookups are refused unread: looking them up would tell the guesser which of its
guesses are right); see docs/call-forward.md.

A refused address may still open a page with the code and the truck's plate together
(`pair_wait`, `pair_failed`): a pair names one truck, so a guess of one hits with odds of
one in 26^8 whatever the number of live codes (a code alone hits any of them), and its wrong
pairs have buckets of their own, per address (`pair_burst`, then `pair_per_min`) and in all
(`pair_total_*`), larger than the codes' as they are worth that much less to a guesser: a
guesser who keeps the address's code bucket empty no longer holds its drivers back, unless
it also sends more wrong pairs than `pair_per_min` for as long as it means to.

The buckets live in this API process (each replica limits its own share, as the API keys'
limiter), on the monotonic clock (operational time, injected by tests)."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# more addresses than this remembered: those whose bucket is full again are forgotten, then
# (an attack from that many addresses, which the total bucket holds) the oldest, down to
# nine tenths, so that the table is swept once per many new addresses, not on each one
MOST_ADDRESSES = 100_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float
    failed_at: float


@dataclass
class CodeGuard:
    burst: int = 10  # failed lookups one address may make at once
    per_min: float = 1.0  # then this many a minute
    total_burst: int = 100  # all addresses together
    total_per_min: float = 30.0
    # wrong code-and-plate pairs from an address whose codes are refused, and in all
    pair_burst: int = 20
    pair_per_min: float = 10.0
    pair_total_burst: int = 600
    pair_total_per_min: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _total: _Bucket | None = None
    _pairs: dict[str, _Bucket] = field(default_factory=dict)
    _pair_total: _Bucket | None = None
    _given_back: dict[str, float] = field(default_factory=dict)  # code -> when it last gave

    def __post_init__(self) -> None:
        bursts = (self.burst, self.total_burst, self.pair_burst, self.pair_total_burst)
        rates = (self.per_min, self.total_per_min, self.pair_per_min, self.pair_total_per_min)
        if min(bursts) < 1 or min(rates) <= 0:
            raise ValueError("code lookup limits: bursts >= 1 and rates > 0")

    @property
    def _refill_s(self) -> float:
        """How long an address's empty bucket takes to fill again."""
        return self.burst * 60.0 / self.per_min

    def _fill(self, bucket: _Bucket, burst: int, per_min: float, now: float) -> None:
        bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.at) * per_min / 60.0)
        bucket.at = now

    def _total_bucket(self, now: float) -> _Bucket:
        if self._total is None:
            self._total = _Bucket(float(self.total_burst), now, now)
        self._fill(self._total, self.total_burst, self.total_per_min, now)
        return self._total

    def wait(self, address: str) -> float:
        """Seconds before a code may be looked up for `address` (0: now)."""
        now = self.clock()
        bucket = self._buckets.get(client_key(address))
        if bucket is None:
            return 0.0
        self._fill(bucket, self.burst, self.per_min, now)
        if bucket.tokens < 1.0:
            return (1.0 - bucket.tokens) * 60.0 / self.per_min
        total = self._total_bucket(now)
        quiet_at = bucket.failed_at + self._refill_s
        if total.tokens < 1.0 and quiet_at > now:
            # a distributed guess: this address tried and failed lately; it waits for the
            # total to have a failure to spare, or for its own failure to be old
            return min((1.0 - total.tokens) * 60.0 / self.total_per_min, quiet_at - now)
        return 0.0

    def failed(self, address: str) -> None:
        """A lookup for `address` found no truck."""
        now = self.clock()
        key = client_key(address)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MOST_ADDRESSES:
                self._forget(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now, now)
        self._fill(bucket, self.burst, self.per_min, now)
        bucket.tokens = max(0.0, bucket.tokens - 1.0)
        bucket.failed_at = now
        total = self._total_bucket(now)
        total.tokens = max(0.0, total.tokens - 1.0)

    def found(self, address: str, code: str) -> None:
        """A lookup for `address` found the truck with `code` (a live code: a guesser knows
        few): the address's last failure and the total's are given back, unless this code
        gave one back within the time an empty bucket takes to fill."""
        now = self.clock()
        bucket = self._buckets.get(client_key(address))
        given = self._given_back.get(code)
        if bucket is None or (given is not None and now - given < self._refill_s):
            return
        self._fill(bucket, self.burst, self.per_min, now)
        if bucket.tokens >= self.burst:
            return  # nothing spent to give back: the code keeps its turn
        if len(self._given_back) >= MOST_ADDRESSES:
            for old in [c for c, at in self._given_back.items() if now - at >= self._refill_s]:
                del self._given_back[old]
        self._given_back[code] = now
        bucket.tokens = min(float(self.burst), bucket.tokens + 1.0)
        total = self._total_bucket(now)
        total.tokens = min(float(self.total_burst), total.tokens + 1.0)

    def pair_wait(self, address: str) -> float:
        """Seconds before a code with a plate may be looked up for `address` (0: now)."""
        now = self.clock()
        bucket = self._pairs.get(client_key(address))
        if bucket is not None:
            self._fill(bucket, self.pair_burst, self.pair_per_min, now)
            if bucket.tokens < 1.0:
                return (1.0 - bucket.tokens) * 60.0 / self.pair_per_min
        total = self._pair_total_bucket(now)
        if total.tokens < 1.0:
            return (1.0 - total.tokens) * 60.0 / self.pair_total_per_min
        return 0.0

    def pair_failed(self, address: str) -> None:
        """A code with a plate looked up for `address` found no truck with both."""
        now = self.clock()
        key = client_key(address)
        bucket = self._pairs.get(key)
        if bucket is None:
            if len(self._pairs) >= MOST_ADDRESSES:
                refill_s = self.pair_burst * 60.0 / self.pair_per_min
                for old in [k for k, b in self._pairs.items() if b.failed_at + refill_s <= now]:
                    del self._pairs[old]
                for old in list(self._pairs)[: len(self._pairs) - MOST_ADDRESSES * 9 // 10]:
                    del self._pairs[old]
            bucket = self._pairs[key] = _Bucket(float(self.pair_burst), now, now)
        self._fill(bucket, self.pair_burst, self.pair_per_min, now)
        bucket.tokens = max(0.0, bucket.tokens - 1.0)
        bucket.failed_at = now
        total = self._pair_total_bucket(now)
        total.tokens = max(0.0, total.tokens - 1.0)

    def _pair_total_bucket(self, now: float) -> _Bucket:
        if self._pair_total is None:
            self._pair_total = _Bucket(float(self.pair_total_burst), now, now)
        self._fill(self._pair_total, self.pair_total_burst, self.pair_total_per_min, now)
        return self._pair_total

    def _forget(self, now: float) -> None:
        for key in [k for k, b in self._buckets.items() if b.failed_at + self._refill_s <= now]:
            del self._buckets[key]
        if len(self._buckets) >= MOST_ADDRESSES:
            oldest = list(self._buckets)[: len(self._buckets) - MOST_ADDRESSES * 9 // 10]
            for key in oldest:
                del self._buckets[key]


def client_key(address: str) -> str:
    """The client an address stands for: an IPv4 address, an IPv6 one's /64 (a subscriber's
    network: one phone may change address within it at will); anything else as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)
