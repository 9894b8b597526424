"""Versioned wire formats, one model per topic, and the envelope around them.

Everything borderflow produces is enveloped (`Envelope`). Plate reads are also accepted as
plain JSON (the bare `PlateReadV1` object) so that third-party camera gateways
(librdkafka, kcat, Java clients) can publish without knowing the envelope.
"""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, StringConstraints

from lanes.plates import normalise_plate
from streams.timestamps import IsoAwareDatetime, UtcDatetime

EventId = Annotated[str, StringConstraints(min_length=1, max_length=128, strip_whitespace=True)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
# strict: a number, not "0.93" nor true (pydantic would take both); an integer is a number
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False, strict=True)]
StrictNumber = Annotated[float, Field(strict=True, allow_inf_nan=False)]
ContainerText = Annotated[str, StringConstraints(max_length=16, strip_whitespace=True)]
PLATE_MAX = 32  # the plate columns' width, as the text a camera sends


def fits_a_plate(text: str) -> str:
    """`text` unchanged when its normalised form (`lanes.plates.normalise_plate`, what is
    stored and matched) is at most PLATE_MAX characters; ValueError otherwise. NFKC spells
    some characters as several ('\u00df' as 'SS', U+FDFA as 18 letters): until 2026-12-06 such
    a read of 32 characters was stored as a longer plate on SQLite and, on PostgreSQL, failed
    its batch and was dead-lettered as a database error naming no field."""
    if len(plate := normalise_plate(text)) > PLATE_MAX:
        raise ValueError(
            f"is {len(plate)} characters once normalised (NFKC spells some characters as "
            f"several; separators dropped), more than a plate's {PLATE_MAX}"
        )
    return text


PlateText = Annotated[str, StringConstraints(max_length=PLATE_MAX), AfterValidator(fits_a_plate)]

T = TypeVar("T", bound=BaseModel)


class Envelope(BaseModel, Generic[T]):
    """The envelope of every event borderflow produces."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: EventId
    type: ShortText
    version: int = Field(ge=1)
    occurred_at: IsoAwareDatetime
    producer: ShortText
    data: T


class CandidateV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: PlateText
    confidence: Probability


class PlateReadV1(BaseModel):
    """A camera's read of one plate: topic `borderflow.plate-reads`, key `camera_id`.

    `event_id` may arrive as `read_id` (some camera gateways name it so); it is always
    written back as `event_id`. `char_confidences`, when the camera's OCR gives them, are one
    per character of the *normalised* `plate_text` (`lanes.plates.normalise_plate`: no
    separators, upper case), not of the text as printed; a list of another length is set
    aside, and the read's `confidence` stands for each character. `container_numbers` are the
    container numbers a gate OCR portal read on the truck, as read (not checked here).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: EventId = Field(validation_alias=AliasChoices("event_id", "read_id"))
    camera_id: ShortText
    captured_at: IsoAwareDatetime  # ISO 8601 text with offset: no epoch numbers or text
    plate_text: PlateText
    confidence: Probability
    candidates: list[CandidateV1] = Field(default_factory=list, max_length=20)
    char_confidences: list[Probability] | None = Field(default=None, max_length=32)
    container_numbers: list[ContainerText] = Field(default_factory=list, max_length=4)
    bbox: tuple[StrictNumber, StrictNumber, StrictNumber, StrictNumber] | None = None
    image_ref: Annotated[str, StringConstraints(max_length=512)] | None = None


class MatchCandidateV1(BaseModel):
    """A manifest the matcher weighed for a visit, best first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    manifest_id: str
    plate: str
    score: float
    closest_read: str


class LaneDecisionV1(BaseModel):
    """One decision per truck visit: topic `borderflow.lane-decisions`, key `visit_id`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision_id: str
    visit_id: str
    gate_id: str
    plate: str
    manifest_id: str | None
    outcome: Literal["assigned", "needs_review", "refused"]
    match_outcome: str
    match_score: float
    match_candidates: list[MatchCandidateV1] = Field(default_factory=list)
    lane_id: str | None
    carrier_slot: str | None
    reason: str
    # in UTC, whatever offset the visit's reads carried: sent from memory or again from the
    # database (the outbox), a decision is the same bytes
    decided_at: UtcDatetime
    expected_start_at: UtcDatetime | None
    expected_done_at: UtcDatetime | None
    read_event_ids: list[str] = Field(
        description=(
            "the reads the decision was made on: the visit's reads in the batch that decided "
            "it (a revision keeps the list). A read that joins the visit after its decision "
            "(the truck read again by another camera, or a read handled later from another "
            "partition) is stored with the visit, which keeps its decision: no decision is "
            "published for that read, so it is in no decision's list"
        )
    )
    revision: int = Field(default=0, description="0 first; each re-plan of the visit adds one")


PLATE_READ_TYPE = "plate_read"
LANE_DECISION_TYPE = "lane_decision"
