"""The link's settings (`BORDERFLOW_XBORDER_*`), built at start-up, and the keys.

    BORDERFLOW_XBORDER_SIDE=VN                     # this side: VN (Huu Nghi) or CN (Youyiguan)
    BORDERFLOW_XBORDER_PEER_BOOTSTRAP=host:9092    # the other side's Kafka (direct mode)
    BORDERFLOW_XBORDER_SIGNING_KEY_ID=vn-2026-01
    BORDERFLOW_XBORDER_SIGNING_KEY=<base64 of the 32-byte Ed25519 private key>
    BORDERFLOW_XBORDER_TRUSTED_KEYS='{"cn-2026-01": "<base64 public key>", "cn-2026-02": "..."}'

Every trusted key belongs to the other side. A rotation lists the old and the new key
until nothing signed by the old one is in flight (docs/exchange.md).
"""

from __future__ import annotations

import json

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lanes.crossings import Side
from streams.xborder_sign import SigningKey, TrustedKey, TrustedKeys

OUTBOUND_TOPIC = "borderflow.xborder.outbound"


def inbound_topic(sender: Side) -> str:
    """The topic, on the receiving side's broker, of the messages `sender` sends."""
    return f"borderflow.xborder.from-{sender.value.lower()}"


class XborderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_XBORDER_", extra="ignore")

    side: Side = Side.VN
    # the other side's broker; None: the target topic is on this side's broker, from where
    # MirrorMaker 2 or a connector copies it across (docs/exchange.md)
    peer_bootstrap: str | None = None
    # where the forwarder writes: default the other side's inbound topic for this side
    target_topic: str | None = None
    signing_key_id: str = Field(default="", max_length=64)
    signing_key: SecretStr = SecretStr("")
    trusted_keys: str = "{}"  # JSON: key id -> base64 public key of the other side
    send_batch: int = Field(default=500, ge=1, le=10_000)
    poll_s: float = Field(default=0.2, gt=0)
    # go-back-N: a message sent this long ago and not acknowledged is resent, with all that
    # followed it (the other side applies each message id once)
    resend_after_s: float = Field(default=60.0, gt=0)
    consumer_group: str = "borderflow-xborder"

    @field_validator("trusted_keys")
    @classmethod
    def _json_object(cls, value: str) -> str:
        wanted = 'a JSON object of key id -> base64 Ed25519 public key, {"cn-2026-01": "..."}'
        try:
            obj = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON ({exc}): {wanted}") from None
        if not isinstance(obj, dict) or not all(isinstance(v, str) for v in obj.values()):
            raise ValueError(wanted)
        return value

    def signing(self) -> SigningKey:
        if not self.signing_key_id or not self.signing_key.get_secret_value():
            raise ValueError("BORDERFLOW_XBORDER_SIGNING_KEY_ID and _SIGNING_KEY are required")
        return SigningKey.from_base64(
            self.signing_key_id, self.side, self.signing_key.get_secret_value()
        )

    def trusted(self) -> TrustedKeys:
        keys = json.loads(self.trusted_keys)
        return TrustedKeys.of(
            *(TrustedKey.from_base64(kid, self.side.other, raw) for kid, raw in keys.items())
        )

    def target(self) -> str:
        return self.target_topic or inbound_topic(self.side)


class LinkSettingsError(ValueError):
    """A link setting that cannot be used, naming the variable (never a secret's value)."""


def load_link_settings() -> XborderSettings:
    """The link's settings from the environment, their keys read, or `LinkSettingsError`
    naming the variable and the key id: a key pasted wrong (not base64, not 32 bytes) or
    missing stopped `borderflow xborder link` with a traceback that named neither (found
    by a stranger configuring the other side from docs/exchange.md)."""
    prefix = "BORDERFLOW_XBORDER_"
    try:
        settings = XborderSettings()
    except ValidationError as exc:
        problems = [
            f"{prefix}{'.'.join(str(p) for p in e['loc']).upper()}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise LinkSettingsError("; ".join(problems)) from None
    try:
        settings.signing()
    except ValueError as exc:
        raise LinkSettingsError(f"{prefix}SIGNING_KEY: {_key_problem(exc)}") from None
    for key_id, raw in json.loads(settings.trusted_keys).items():
        try:
            TrustedKey.from_base64(key_id, settings.side.other, raw)
        except ValueError as exc:
            raise LinkSettingsError(
                f"{prefix}TRUSTED_KEYS: key {key_id!r}: {_key_problem(exc)}"
            ) from None
    return settings


def _key_problem(exc: ValueError) -> str:
    text = str(exc)
    if "SIGNING_KEY_ID" in text:
        return "BORDERFLOW_XBORDER_SIGNING_KEY_ID and _SIGNING_KEY are both required"
    if text.startswith("not base64"):
        return f"not base64 ({text.removeprefix('not base64: ')})"
    return f"not an Ed25519 key: {text} (base64 of the 32 raw bytes)"
