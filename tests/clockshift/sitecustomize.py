"""The suite a year later (issue 17): with BORDERFLOW_TEST_SHIFT_DAYS set and this folder on
PYTHONPATH, every Python process of the run (pytest, `borderflow up`, the workers it starts)
sees the servers' clock that many days ahead: `datetime.now`, `time.time` and friends, via
time-machine, which leaves the monotonic clock (timeouts, sleeps) alone. `make
test-shifted` runs the whole suite so. (libfaketime, tried first, breaks Python's sleeps
here: EINVAL from clock_nanosleep with FAKETIME_DONT_FAKE_MONOTONIC, hangs without it.)"""

from __future__ import annotations

import os

_days = os.environ.get("BORDERFLOW_TEST_SHIFT_DAYS")
if _days:
    import datetime as _dt

    import time_machine

    _shifted = _dt.datetime.now(_dt.UTC) + _dt.timedelta(days=float(_days))
    time_machine.travel(_shifted, tick=True).start()
