"""The alert event on `borderflow.alerts` (key gate_id, issue 22): raised by the decider's
alert step (`change` "raised"), then one per controller action (acknowledged, escalated,
dismissed), and one when a controller releases the truck it held (`change` "released",
with who, when and why) or turns it away (`change` "turned_away", the same), each carrying
the alert as it stands after the change."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

ALERT_TYPE = "risk_alert"

AlertStatus = Literal["open", "acknowledged", "escalated", "dismissed"]
# "released" / "turned_away": a controller released the truck the alert held, or turned it
# away (the alert's status stays)
AlertChange = Literal["raised", "acknowledged", "escalated", "dismissed", "released", "turned_away"]
# how a controller ended an alert's hold of its truck: placed in a lane, or refused entry
HoldEnd = Literal["released", "turned_away"]


class AlertV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    alert_id: str
    change: AlertChange
    rule: str
    severity: Literal["low", "medium", "high"]
    subject: str
    gate_id: str | None
    raised_at: datetime  # event time: when the evidence was complete
    explanation: str
    evidence: list[str]
    hold: bool
    held_visit_id: str | None = None
    released_by: str | None = None  # the controller who released the held truck
    released_at: datetime | None = None  # the gate's event time of the release
    release_reason: str | None = None
    # how the hold ended: "released" (placed) or "turned_away" (refused entry); None while
    # the truck is held, or never was
    released_as: HoldEnd | None = None
    status: AlertStatus
    changed_by: str | None = None  # the controller, for a workflow change
    reason: str | None = None
    audit_seq: int | None = None  # the audit entry of a workflow change
