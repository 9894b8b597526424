"""Signed cross-border messages: Ed25519 over the exact payload bytes (issue 21).

On the wire a message is a small JSON envelope, the payload carried as base64 so that the
signature covers the very bytes the sender wrote (no canonical JSON to agree on):

    {"format": "borderflow.xborder.signed/1", "key_id": "vn-2026-01",
     "signature": "<base64 of 64 bytes>", "payload": "<base64 of the message JSON>"}

Each side signs with one current key (`SigningKey`) and trusts a set of the other side's
public keys by key id (`TrustedKeys`), each bound to the side that may use it: a rotation
adds the new public key on the receiving side first, then switches the sender to it, then
drops the old one once nothing signed with it is still in flight. No downtime, because the
receiver accepts both in between.

`verify` refuses, with a reason and an error type for the dead-letter topic: a value that
is not such an envelope or carries no signature (`unsigned`), a key id not trusted or not
the sender's (`unknown_key`), a signature that does not verify (`bad_signature`), a
payload that is not a valid message (`invalid`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lanes.crossings import Side
from streams.errors import InvalidEvent
from streams.jsonbody import load_object
from streams.xborder import (
    Legible,
    MessageHeader,
    XBorderMessage,
    decode_header,
    decode_message,
    legible,
    outgoing_payload,
)

ENVELOPE_FORMAT = "borderflow.xborder.signed/1"


class Refused(InvalidEvent):
    """A cross-border message the receiver will not apply: `error_type` names the kind
    (unsigned, unknown_key, bad_signature, invalid, replayed, reordered). An `invalid` one
    whose signature verified and whose header is readable carries that header and the key
    that signed it: the sender did send it, so it takes its place in the sender's sequence.
    `legible`: what the record says it is, as far as it can be read (any kind; verified or
    not), for the control room and the refusal sent back."""

    def __init__(
        self,
        reason: str,
        error_type: str,
        *,
        header: MessageHeader | None = None,
        key_id: str | None = None,
        legible: Legible | None = None,
    ) -> None:
        super().__init__(reason)
        self.error_type = error_type
        self.header, self.key_id, self.legible = header, key_id, legible


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    side: Side
    private: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls, key_id: str, side: Side) -> SigningKey:
        return cls(key_id, side, Ed25519PrivateKey.generate())

    @classmethod
    def from_base64(cls, key_id: str, side: Side, raw: str) -> SigningKey:
        """From the 32-byte raw private key, base64 (how settings carry it)."""
        return cls(key_id, side, Ed25519PrivateKey.from_private_bytes(_b64decode(raw)))

    def private_base64(self) -> str:
        from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

        raw = self.private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return base64.b64encode(raw).decode()

    def public_base64(self) -> str:
        from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode()

    def trusted(self) -> TrustedKey:
        return TrustedKey(self.key_id, self.side, self.private.public_key())


@dataclass(frozen=True)
class TrustedKey:
    key_id: str
    side: Side
    public: Ed25519PublicKey = field(repr=False)

    @classmethod
    def from_base64(cls, key_id: str, side: Side, raw: str) -> TrustedKey:
        return cls(key_id, side, Ed25519PublicKey.from_public_bytes(_b64decode(raw)))


@dataclass(frozen=True)
class TrustedKeys:
    """The other side's public keys accepted now, by key id (several during a rotation)."""

    keys: Mapping[str, TrustedKey]

    @classmethod
    def of(cls, *keys: TrustedKey) -> TrustedKeys:
        return cls({k.key_id: k for k in keys})


def sign(message: XBorderMessage, key: SigningKey) -> bytes:
    """The envelope's bytes for `message`, its payload restricted to the agreement."""
    if message.sender is not key.side:
        raise ValueError(f"key {key.key_id} belongs to {key.side}, not to {message.sender}")
    return sign_payload(outgoing_payload(message), key)


def sign_payload(payload: bytes, key: SigningKey) -> bytes:
    """The envelope of `payload` signed with `key`, the bytes as they are: `sign` checks a
    message against the agreement first; this is what a sender of another version (or a
    test acting as one) puts on the wire."""
    signature = key.private.sign(payload)
    envelope = {
        "format": ENVELOPE_FORMAT,
        "key_id": key.key_id,
        "signature": base64.b64encode(signature).decode(),
        "payload": base64.b64encode(payload).decode(),
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Verified:
    """A message whose signature verified, with the key and the exact bytes signed."""

    message: XBorderMessage
    key_id: str
    payload: bytes


def verify(raw: bytes | None, trusted: TrustedKeys) -> XBorderMessage:
    """The message inside a signed envelope, or `Refused` with the reason."""
    return verify_signed(raw, trusted).message


def verify_signed(raw: bytes | None, trusted: TrustedKeys) -> Verified:
    """`verify`, keeping the key id and the payload bytes (what the receiver stores). A
    refusal carries what can be read of the record (`Refused.legible`)."""
    try:
        return _verify_signed(raw, trusted)
    except Refused as refused:
        if refused.legible is None:
            refused.legible = _legible_record(raw)
        raise


def _legible_record(raw: bytes | None) -> Legible | None:
    """What a refused record says it is: its payload's header fields, verified or not, or
    those of a bare message sent unsigned."""
    try:
        return legible(signed_payload(raw or b""))
    except (InvalidEvent, ValueError):
        return legible(raw or b"")


def _verify_signed(raw: bytes | None, trusted: TrustedKeys) -> Verified:
    envelope = _envelope(raw)
    key_id, signature_text = _signed_by(envelope, "key_id"), _signed_by(envelope, "signature")
    payload_text = envelope.get("payload")
    if not isinstance(payload_text, str):
        raise Refused("invalid: the envelope has no payload", "invalid")
    key = trusted.keys.get(key_id)
    if key is None:
        raise Refused(f"unknown key: {key_id!r} is not a trusted key", "unknown_key")
    decoded = []
    for name, text in (("signature", signature_text), ("payload", payload_text)):
        try:
            decoded.append(_b64decode(text))
        except ValueError as exc:
            raise Refused(f"bad signature: {name}: {exc}", "bad_signature") from exc
    signature, payload = decoded
    try:
        key.public.verify(signature, payload)
    except InvalidSignature:
        raise Refused(
            f"bad signature: the payload does not verify under key {key_id!r}", "bad_signature"
        ) from None
    try:
        message = decode_message(payload)
    except InvalidEvent as exc:
        header = decode_header(payload)
        if header is not None and header.sender is not key.side:
            header = None  # not the key's side: no place in anybody's sequence
        raise Refused(f"invalid: {exc.reason}", "invalid", header=header, key_id=key_id) from exc
    if message.sender is not key.side:
        raise Refused(
            f"unknown key: {key_id!r} is a key of {key.side.value}, the message says it is "
            f"from {message.sender.value}",
            "unknown_key",
        )
    return Verified(message, key_id, payload)


def _signed_by(envelope: dict[str, Any], name: str) -> str:
    """The envelope's `key_id` or `signature`, or `unsigned` naming it."""
    value = envelope.get(name)
    if value is None or value == "":
        raise Refused(
            f"unsigned: {name}: missing: a signed envelope has key_id and signature", "unsigned"
        )
    if not isinstance(value, str):
        raise Refused(f"unsigned: {name}: expected a string, got {value!r:.40}", "unsigned")
    return value


def signed_payload(raw: bytes) -> bytes:
    """The payload bytes inside an envelope, not verified: for a sender reading back its
    own stored envelopes (to sign a resend anew)."""
    payload = _envelope(raw).get("payload")
    if not isinstance(payload, str):
        raise Refused("invalid: the envelope has no payload", "invalid")
    return _b64decode(payload)


def _envelope(raw: bytes | None) -> dict[str, Any]:
    if not raw:
        raise Refused("unsigned: empty message", "unsigned")
    try:  # the one decoder of every topic (a byte-order mark taken, the same words)
        obj = load_object(raw, what="a signed envelope")
    except InvalidEvent as exc:
        raise Refused(f"unsigned: not a signed envelope ({exc})", "unsigned") from None
    if obj.get("format") != ENVELOPE_FORMAT:
        raise Refused(f"unsigned: not a {ENVELOPE_FORMAT} envelope", "unsigned")
    return obj


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64: {exc}") from exc
