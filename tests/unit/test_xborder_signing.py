"""Signatures and refusals of cross-border messages (issue 21): each refusal has its kind."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from lanes.crossings import Side
from streams.xborder import AckV1, outgoing_payload
from streams.xborder_sign import (
    Refused,
    SigningKey,
    TrustedKey,
    TrustedKeys,
    sign,
    sign_payload,
    verify,
)

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
VN_OLD = SigningKey.generate("vn-2026-01", Side.VN)
VN_NEW = SigningKey.generate("vn-2026-02", Side.VN)
CN = SigningKey.generate("cn-2026-01", Side.CN)


def _ack(sender: Side = Side.VN, sequence: int = 1) -> AckV1:
    return AckV1(
        message_id=f"{sender.value}:ack-{sequence}",
        sender=sender,
        sequence=sequence,
        event_time=T0,
        crossing_id="x-1",
        acked_message_id="CN:e-1",
        acked_sequence=3,
    )


def test_round_trip() -> None:
    message = verify(sign(_ack(), VN_OLD), TrustedKeys.of(VN_OLD.trusted()))
    assert message == _ack()


def test_rotation_accepts_both_keys_while_both_are_trusted() -> None:
    during = TrustedKeys.of(VN_OLD.trusted(), VN_NEW.trusted())
    assert verify(sign(_ack(sequence=1), VN_OLD), during).sequence == 1
    assert verify(sign(_ack(sequence=2), VN_NEW), during).sequence == 2
    after = TrustedKeys.of(VN_NEW.trusted())
    with pytest.raises(Refused) as refused:
        verify(sign(_ack(sequence=3), VN_OLD), after)
    assert refused.value.error_type == "unknown_key"


def test_keys_travel_as_base64() -> None:
    copy = SigningKey.from_base64(VN_OLD.key_id, Side.VN, VN_OLD.private_base64())
    public = TrustedKey.from_base64(VN_OLD.key_id, Side.VN, VN_OLD.public_base64())
    assert verify(sign(_ack(), copy), TrustedKeys.of(public)) == _ack()


def _refusal(raw: bytes | None, trusted: TrustedKeys | None = None) -> Refused:
    with pytest.raises(Refused) as refused:
        verify(raw, trusted or TrustedKeys.of(VN_OLD.trusted()))
    return refused.value


def test_tampered_payload_is_a_bad_signature() -> None:
    envelope = json.loads(sign(_ack(), VN_OLD))
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["acked_sequence"] = 4
    envelope["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    refused = _refusal(json.dumps(envelope).encode())
    assert refused.error_type == "bad_signature"
    assert "does not verify under key 'vn-2026-01'" in refused.reason


def test_unsigned() -> None:
    assert _refusal(outgoing_payload(_ack())).error_type == "unsigned"
    envelope = json.loads(sign(_ack(), VN_OLD))
    del envelope["signature"]
    assert _refusal(json.dumps(envelope).encode()).error_type == "unsigned"
    assert _refusal(None).error_type == "unsigned"
    assert _refusal(b"\xff garbage").error_type == "unsigned"


def test_unsigned_says_why_as_every_topic_does() -> None:
    # the envelope is read by the one decoder of every topic (streams/jsonbody.py): until
    # 2026-12-06 it parsed JSON itself and said "invalid JSON" whatever the fault
    assert "got an array" in _refusal(b"[1, 2]").reason
    assert "line 1 column 2" in _refusal(b"{,}").reason
    assert "byte 0" in _refusal(b"\xff garbage").reason
    assert _refusal(b"").reason == "unsigned: empty message"
    # a byte-order mark, as Windows tools write it, is taken: the signature decides
    assert verify(b"\xef\xbb\xbf" + sign(_ack(), VN_OLD), TrustedKeys.of(VN_OLD.trusted()))


def test_unknown_key() -> None:
    refused = _refusal(sign(_ack(), SigningKey.generate("vn-rogue", Side.VN)))
    assert refused.error_type == "unknown_key"
    assert "'vn-rogue' is not a trusted key" in refused.reason


def test_a_key_of_one_side_cannot_sign_for_the_other() -> None:
    """The Chinese side's own (trusted) key used to pass a message off as Vietnamese."""
    forged = json.loads(sign(_ack(Side.CN), CN))
    payload = json.loads(base64.b64decode(forged["payload"]))
    payload["sender"] = "VN"
    raw = json.dumps(payload, sort_keys=True).encode()
    forged["payload"] = base64.b64encode(raw).decode()
    forged["signature"] = base64.b64encode(CN.private.sign(raw)).decode()
    refused = _refusal(json.dumps(forged).encode(), TrustedKeys.of(CN.trusted()))
    assert refused.error_type == "unknown_key"
    assert "is a key of CN" in refused.reason


def test_signed_but_invalid_payload() -> None:
    raw = b'{"type": "borderflow.xborder.ack", "sender": "VN"}'
    envelope = {
        "format": "borderflow.xborder.signed/1",
        "key_id": VN_OLD.key_id,
        "signature": base64.b64encode(VN_OLD.private.sign(raw)).decode(),
        "payload": base64.b64encode(raw).decode(),
    }
    refused = _refusal(json.dumps(envelope).encode())
    assert refused.error_type == "invalid"
    assert "payload.borderflow.xborder.ack.message_id" in refused.reason or "message_id" in (
        refused.reason
    )


def test_a_side_cannot_sign_with_the_others_key() -> None:
    with pytest.raises(ValueError, match="belongs to CN"):
        sign(_ack(Side.VN), CN)


def test_keygen_refuses_a_key_id_that_would_not_travel(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Found by a stranger's try: an empty key id and one with spaces and slashes were
    accepted; the id travels in headers and in the trusted-keys list."""
    from services.cli.main import main  # noqa: PLC0415

    for bad in ("", "bad key id with spaces/../"):
        with pytest.raises(SystemExit) as exited:
            main(["xborder", "keygen", "--side", "VN", "--key-id", bad])
        assert exited.value.code == 2
        assert "1-64 letters, digits" in capsys.readouterr().err
    assert main(["xborder", "keygen", "--side", "VN", "--key-id", "vn-2026.01"]) == 0
    assert "BORDERFLOW_XBORDER_SIGNING_KEY_ID=vn-2026.01" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("field", "value"), [("sequence", 2**63), ("attempt", 2**31), ("acked_sequence", 10**20)]
)
def test_a_number_past_what_the_database_holds_is_invalid_naming_it(field: str, value: int) -> None:
    """Signed by the other side's trusted key, but with a number no column holds: refused as
    `invalid` naming the field (it was applied, and the database driver's OverflowError
    dead-lettered it as a handler error, or retried it, found by a stranger's try)."""
    payload = json.loads(outgoing_payload(_ack(Side.CN, 4))) | {field: value}
    raw = json.dumps(payload).encode()
    envelope = {
        "format": "borderflow.xborder.signed/1",
        "key_id": CN.key_id,
        "signature": base64.b64encode(CN.private.sign(raw)).decode(),
        "payload": base64.b64encode(raw).decode(),
    }
    trusted = TrustedKeys.of(CN.trusted())
    with pytest.raises(Refused) as refused:
        verify(json.dumps(envelope).encode(), trusted)
    assert refused.value.error_type == "invalid"
    assert f"payload.borderflow.xborder.ack.{field}: Input should be less than" in str(
        refused.value.reason
    )


def _signed(payload: dict[str, object], key: SigningKey = VN_OLD) -> bytes:
    return sign_payload(json.dumps(payload).encode(), key)


def test_a_signed_message_that_is_not_valid_keeps_its_place_in_the_sequence() -> None:
    """Signed by the sender's key but of a type this side does not know (a later agreement):
    refused as invalid, with the header the receiver needs to count it as received (else
    every message after it is refused as reordered, for ever)."""
    payload = json.loads(outgoing_payload(_ack(sequence=7))) | {
        "type": "borderflow.xborder.customs-hold"
    }
    refused = _refusal(_signed(payload))
    assert refused.error_type == "invalid"
    assert refused.header is not None and refused.key_id == VN_OLD.key_id
    assert (refused.header.sender, refused.header.sequence) == (Side.VN, 7)
    assert refused.header.message_id == "VN:ack-7"
    # no readable header, or signed by a key of the other side: no place in a sequence
    headless = {k: v for k, v in payload.items() if k != "sequence"}
    assert _refusal(_signed(headless)).header is None
    as_cn = _refusal(_signed(payload | {"sender": "CN"}))
    assert as_cn.error_type == "invalid" and as_cn.header is None
    # an unsigned or tampered one never carries one
    assert _refusal(base64.b64decode(json.loads(_signed(payload))["payload"])).header is None


def test_an_envelope_member_that_is_wrong_is_named() -> None:
    """Found by a stranger writing China's envelopes by hand: `key_id: 5` was told 'the
    envelope has no key_id and signature', and a payload that is not base64 'bad
    signature: not base64' (the signature's fault, as it read)."""
    good = json.loads(sign(_ack(), VN_OLD))
    assert _refusal(json.dumps(good | {"key_id": 5}).encode()).reason == (
        "unsigned: key_id: expected a string, got 5"
    )
    no_signature = {k: v for k, v in good.items() if k != "signature"}
    assert _refusal(json.dumps(no_signature).encode()).reason == (
        "unsigned: signature: missing: a signed envelope has key_id and signature"
    )
    payload = _refusal(json.dumps(good | {"payload": "!!not base64"}).encode())
    assert payload.error_type == "bad_signature"
    assert payload.reason.startswith("bad signature: payload: not base64"), payload.reason
    signature = _refusal(json.dumps(good | {"signature": "%%"}).encode())
    assert signature.reason.startswith("bad signature: signature: not base64"), signature.reason


def test_what_can_be_read_of_a_message_that_has_no_place_is_kept() -> None:
    """A message that parsed but whose header is not valid (its sequence a string) has no
    place in the sequence, but its id, type, sender and crossing can be read: the control
    room listed it as '(unreadable)' (found by a stranger sending `"sequence": "7"`). So can
    those of a record that does not verify, as it says them (never as a header)."""
    payload = json.loads(outgoing_payload(_ack(sequence=7))) | {"sequence": "7"}
    refused = _refusal(_signed(payload))
    assert refused.error_type == "invalid" and refused.header is None
    assert refused.legible is not None
    assert (refused.legible.message_id, refused.legible.type) == (
        "VN:ack-7",
        "borderflow.xborder.ack",
    )
    assert (refused.legible.sender, refused.legible.sequence) == ("VN", None)
    assert refused.legible.crossing_id == "x-1"
    tampered = json.loads(_signed(json.loads(outgoing_payload(_ack(sequence=8)))))
    forged = base64.b64encode(base64.b64decode(tampered["payload"]).replace(b"x-1", b"x-2"))
    bad = _refusal(json.dumps(tampered | {"payload": forged.decode()}).encode())
    assert bad.error_type == "bad_signature" and bad.header is None
    assert bad.legible is not None and bad.legible.sequence == 8
    assert bad.legible.crossing_id == "x-2"
    bare = _refusal(outgoing_payload(_ack(sequence=9)))  # a message sent unsigned
    assert bare.error_type == "unsigned" and bare.legible is not None
    assert bare.legible.message_id == "VN:ack-9"
    # an id that is no id is not read
    odd = _refusal(_signed(payload | {"message_id": "<script>", "crossing_id": 5}))
    assert odd.legible is not None and odd.legible.message_id is None
    assert odd.legible.crossing_id is None and odd.legible.type == "borderflow.xborder.ack"
    assert _refusal(b"not json").legible is None
