"""Control-room settings, read from the environment at start-up (`BORDERFLOW_CONTROL_`)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_ORIGIN_WANTED = (
    "origins, comma-separated, each http(s)://host[:port] with no path, query, wildcard or "
    "credentials (e.g. https://cams.gate.example,http://10.20.0.5:8080)"
)


def image_origin(text: str) -> str:
    """`text` as the origin a browser gives it (`URL.origin`: scheme and host lower-case, a
    default port left out), or ValueError. Only an origin: it goes into the page's
    Content-Security-Policy as it is, where a `;`, a blank or a `*` would add to the policy."""
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = -1
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if (
        scheme not in _DEFAULT_PORTS
        or port == -1
        or not host
        or parts.username is not None
        or parts.password is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "?" in text
        or "#" in text
        or not _valid_host(host)
    ):
        raise ValueError(f"{text!r} is not an origin: give {_ORIGIN_WANTED}")
    shown = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        shown += f":{port}"
    return f"{scheme}://{shown}"


def _valid_host(host: str) -> bool:
    if "%" in host:  # an IPv6 zone: no CSP source takes one
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOST.match(host))
    return True


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
    # BORDERFLOW_CONTROL_IMAGE_SOURCES: the origins the page may load camera images from,
    # besides its own and data: (its CSP's img-src); a plate read's image_ref elsewhere is
    # shown as a link, never fetched (any producer of plate reads can write any URL there)
    image_sources: Annotated[tuple[str, ...], NoDecode] = ()

    @field_validator("image_sources", mode="before")
    @classmethod
    def _image_sources(cls, value: object) -> object:
        """Comma- (or blank-) separated origins, each as a browser spells it."""
        if isinstance(value, str):
            value = [part for part in re.split(r"[,\s]+", value) if part]
        if isinstance(value, list | tuple):
            return tuple(dict.fromkeys(image_origin(str(one)) for one in value))
        return value
