"""What the receiver sends back when it refuses a record of the other side (docs/exchange.md,
Refusals): a refusal naming the message and the reason, for every kind it refused, unless
the record names no message (nothing to name) or is itself a refusal (no loops). Until
2026-12-06 the sender was told nothing: the refusal was listed on the receiving side
only."""

from __future__ import annotations

from datetime import UTC, datetime

from lanes.crossings import Side
from services.xborder.refusals import Refusal, reply_to
from streams.xborder import REASON_MAX, AckV1, Legible, MessageHeader, RefusalV1

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
