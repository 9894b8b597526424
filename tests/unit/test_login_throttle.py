"""Failed control-room logins: a sliding window per account and address, and per address."""

from __future__ import annotations

from services.control.throttle import LoginThrottle


def test_an_account_is_slowed_from_one_address_only() -> None:
    throttle = LoginThrottle(limit=3, window_s=60)
    here, there = throttle.keys("Ana", "10.0.0.5"), throttle.keys("ana", "10.0.0.9")
    for t in (0.0, 10.0, 20.0):
        assert throttle.retry_after(here, t) == 0
        throttle.failed(here, t)
    assert throttle.retry_after(here, 21.0) == 39.0  # until the first failure is 60 s old
    assert throttle.retry_after(there, 21.0) == 0  # the controller's own desk still logs in
    assert throttle.retry_after(here, 60.0) == 0
    throttle.failed(here, 61.0)
    assert throttle.retry_after(here, 62.0) == 8.0  # failures at 10, 20, 61: until 10 is 60 s old


def test_one_address_guessing_many_accounts_is_slowed_too() -> None:
    throttle = LoginThrottle(limit=2, window_s=100, address_limit=3)
    for n in range(3):
        keys = throttle.keys(f"user{n}", "10.0.0.5")
        assert throttle.retry_after(keys, n) == 0
        throttle.failed(keys, n)
    assert throttle.retry_after(throttle.keys("someone", "10.0.0.5"), 5.0) == 95.0
    assert throttle.retry_after(throttle.keys("someone", "10.0.0.6"), 5.0) == 0


def test_a_success_clears_the_account_but_not_the_address() -> None:
    throttle = LoginThrottle(limit=2, window_s=100, address_limit=3)
    keys = throttle.keys("ana", "10.0.0.5")
    throttle.failed(keys, 0.0)
    throttle.succeeded(keys)
    throttle.failed(keys, 1.0)
    assert throttle.retry_after(keys, 2.0) == 0  # one failure since the success
    throttle.failed(keys, 2.0)
    assert throttle.retry_after(keys, 3.0) == 98.0  # the account's 2 since the success (1, 2)
