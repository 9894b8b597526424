"""Control-room settings, read from the environment at start-up (`BORDERFLOW_CONTROL_`)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ControlSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_CONTROL_")

    # the session cookie's Secure flag: on behind HTTPS (production), off for plain HTTP
    # on 127.0.0.1 (demo, tests)
    cookie_secure: bool = False
    session_hours: float = 12.0
    # changes arriving within this window are pushed as one snapshot
    debounce_ms: int = 50
    # a live stream is ended after this long and the page reconnects at once (catching up
    # from the snapshot): a server shutting down never waits on an open stream for longer
    stream_lifetime_s: float = 20.0
    # a snapshot is rebuilt at least this often even without an event (clocks move on)
    refresh_s: float = 10.0
    # failed logins: after this many for one username (or from one address) within the
    # window, logins for it are refused with 429 until the oldest failure leaves the window
    login_failures_max: int = 5
    login_window_s: float = 900.0
