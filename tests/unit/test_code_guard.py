"""The short codes' limiter (services/drivers/guard.py) on its own: who counts as one
client, and the table of addresses kept bounded under a guess from very many addresses
without sweeping it on each new one. Its clock is the test's."""

from __future__ import annotations

import pytest

from services.drivers import guard as guard_module
from services.drivers.guard import CodeGuard, client_key


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4 seen by a dual-stack socket
        ("testclient", "testclient"),  # not an address: as it is
    ],
)
def test_one_client_is_an_ipv4_address_or_an_ipv6_subscribers_64(address: str, key: str) -> None:
    assert client_key(address) == key


class Sweeps(dict[str, object]):
    """The guard's table, counting the sweeps over it."""

    def __init__(self) -> None:
        super().__init__()
        self.sweeps = 0

    def items(self):  # type: ignore[no-untyped-def,override]
        self.sweeps += 1
        return super().items()


def test_the_addresses_kept_are_bounded_and_swept_once_in_many_new_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(guard_module, "MOST_ADDRESSES", 100)
    now = [0.0]
    guard = CodeGuard(burst=2, per_min=1.0, total_burst=10**6, clock=lambda: now[0])
    table = Sweeps()
    guard._buckets = table  # type: ignore[assignment]
    guard.failed("198.51.100.1")  # the first, and a long time ago: clean by the sweep
    now[0] = 1_000.0
    for n in range(300):
        guard.failed(f"10.0.{n // 250}.{n % 250}")
    assert len(table) <= 100
    # 300 new addresses over a table of 100: a sweep each time it filled, not on each one
    assert table.sweeps <= 300 // 10
    # the newest are kept, and still limited
    guard.failed("10.0.1.49")
    assert guard.wait("10.0.1.49") == pytest.approx(60.0)
    assert "198.51.100.1" not in table
