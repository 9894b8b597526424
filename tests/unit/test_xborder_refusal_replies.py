"""What the receiver sends back when it refuses a record of the other side (docs/exchange.md,
Refusals): a refusal naming the message and the reason, for every kind it refused, unless
the record names no message (nothing to name) or is itself a refusal (no loops). Until
2026-12-06 the sender was told nothing: the refusal was listed on the receiving side
only."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from lanes.crossings import Side
from services.xborder.refusals import Refusal, reply_to
from streams.xborder import REASON_MAX, AckV1, Legible, MessageHeader, RefusalV1, legible
from streams.xborder_sign import Refused, SigningKey, TrustedKeys, verify_signed

T0 = datetime(2026, 12, 6, 2, 40, tzinfo=UTC)


def _ack(sequence: int = 2) -> AckV1:
    return AckV1(
        message_id="VN:ack-CN:ack-VN:exit:v-1",
        sender=Side.VN,
        sequence=sequence,
        event_time=T0,
        crossing_id="VN:huu-nghi:M-1",
        acked_message_id="CN:ack-VN:exit:v-1",
        acked_sequence=1,
    )


def _refused(message: object, kind: str = "invalid", reason: str = "invalid: why") -> Refusal:
    return Refusal(
        kind=kind,
        reason=reason,
        source="borderflow.xborder.from-vn:0:7",
        sender="VN",
        message=message,  # type: ignore[arg-type]
    )


def test_a_refused_message_is_answered_naming_its_id_and_the_reason() -> None:
    reason = "invalid: acked_message_id 'CN:ack-VN:exit:v-1' is an ack: acks are not acknowledged"
    reply = reply_to(_refused(_ack(), reason=reason))
    assert reply is not None
    assert (reply.refused_message_id, reply.refused_sequence) == ("VN:ack-CN:ack-VN:exit:v-1", 2)
    assert (reply.kind, reply.reason) == ("invalid", reason)
    assert (reply.event_time, reply.crossing_id) == (T0, "VN:huu-nghi:M-1")


def test_every_kind_with_an_id_is_answered_with_what_can_be_read() -> None:
    header = MessageHeader(
        message_id="VN:x-9",
        sender=Side.VN,
        sequence=9,
        event_time=T0,
        crossing_id="VN:c-9",
        type="borderflow.xborder.customs-hold",
    )
    assert reply_to(_refused(header, "invalid")) is not None
    said = Legible(message_id="VN:exit:v-6", type="borderflow.xborder.exit")
    for kind in ("unsigned", "unknown_key", "bad_signature", "invalid", "replayed", "reordered"):
        reply = reply_to(_refused(said, kind, reason=f"{kind}: why"))
        assert reply is not None and reply.kind == kind
        assert (reply.refused_sequence, reply.event_time, reply.crossing_id) == (None, None, None)
    long = reply_to(_refused(said, reason="invalid: " + "x" * 5000))
    assert long is not None and len(long.reason) == REASON_MAX


def test_nothing_to_name_or_a_refusal_is_not_answered() -> None:
    assert reply_to(_refused(None, "unsigned")) is None
    assert reply_to(_refused(Legible(type="borderflow.xborder.exit"))) is None  # no id
    refusal = RefusalV1(
        message_id="VN:refusal-3",
        sender=Side.VN,
        sequence=3,
        event_time=T0,
        crossing_id="CN:youyiguan:M-1",
        refused_message_id="CN:notice:v-1",
        kind="invalid",
        reason="invalid: why",
    )
    assert reply_to(_refused(refusal, "reordered")) is None
    # one that only says it is a refusal (not verified, or not valid) is not answered either
    said = Legible(message_id="VN:refusal-4", type="borderflow.xborder.refusal")
    assert reply_to(_refused(said, "bad_signature")) is None


def test_a_message_giving_a_member_twice_is_answered_with_its_id() -> None:
    """Found 2026-12-06 by a stranger sending China's messages by hand: a signed notice
    giving `tractor_plate` twice was refused (rightly: which plate was signed?) but as a
    record whose id cannot be read, so China was told nothing, and Vietnam's control room
    listed it as "(unreadable)", though its id, sequence and type were each given once.
    What is given once is read (what is given twice is not: it is the ambiguity)."""
    cn = SigningKey.generate("cn-1", Side.CN)
    payload = (
        b'{"type": "borderflow.xborder.pre-arrival-notice", "schema_version": 1, '
        b'"sender": "CN", "sequence": 37, "message_id": "CN:notice:dup", "crossing_id": '
        b'"CN:youyiguan:M-8", "event_time": "2027-02-05T20:00:00+08:00", "tractor_plate": '
        b'"\xe6\xa1\x82H88888", "tractor_plate": "\xe6\xa1\x82H99999"}'
    )
    envelope = json.dumps(
        {
            "format": "borderflow.xborder.signed/1",
            "key_id": "cn-1",
            "signature": base64.b64encode(cn.private.sign(payload)).decode(),
            "payload": base64.b64encode(payload).decode(),
        }
    ).encode()
    with pytest.raises(Refused) as refused:
        verify_signed(envelope, TrustedKeys.of(cn.trusted()))
    assert "member 'tractor_plate' given 2 times" in refused.value.reason
    said = refused.value.legible
    assert said is not None
    assert (said.message_id, said.sequence, said.crossing_id) == (
        "CN:notice:dup",
        37,
        "CN:youyiguan:M-8",
    )
    reply = reply_to(_refused(said, refused.value.error_type, refused.value.reason))
    assert reply is not None and reply.refused_message_id == "CN:notice:dup"
    twice = legible(b'{"message_id": "CN:a-1", "message_id": "CN:a-2", "sequence": 3}')
    assert twice is not None and twice.message_id is None and twice.sequence == 3
