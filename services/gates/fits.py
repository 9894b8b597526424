"""Hours too short for the work they hold, refused when a gate file is loaded: a lane group
whose hours have no open stretch as long as its mean service, a fleet whose hours hold no
round trip or no yard handover, a carrier whose charging leaves no round trip.

A truck is sent to a lane only when it would be done before the lane closes, and a carrier
leaves only when it is back before its hours end and before it charges
(`lanes.policy.hours.fit` and `fit_avoiding`, the rules the policy and the simulation run):
such a file loaded, and every truck of that lane's kind waited for good, counted by the
simulation as "still waiting when the run stopped" as if the gate were only busy. The check
asks the same two functions, on the gate built from the file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lanes.model import Gate
from lanes.policy.hours import fit, fit_avoiding
from services.gates.schema import GateConfig, Problem

# Any moment: hours repeat every day, and `fit` looks days ahead, so a job that does not fit
# from here fits at no time. Times are compared on the gate's local clock (offset 0 here).
_FROM = datetime(2001, 1, 1, tzinfo=UTC)
_LOCAL = timedelta(0)


def _min(duration: timedelta) -> str:
    return f"{duration.total_seconds() / 60:g} min"


def fit_problems(config: GateConfig, gate: Gate) -> list[Problem]:
    """The hours of `config` (the file) in which the work `gate` (built from it) gives them
    never fits, each as (dotted path, reason)."""
    problems: list[Problem] = []
    lanes = {lane.lane_id: lane for lane in gate.lanes}
    for i, group in enumerate(config.lanes):
        lane = lanes[group.ids[0]]  # a group's lanes share their hours and service
        if fit(lane.hours, _FROM, lane.service_time, _LOCAL) is None:
            problems.append(
                (
                    f"lanes[{i}].hours",
                    f"no open stretch is as long as the {_min(lane.service_time)} mean "
                    "service: a truck is sent to a lane only when it would be done before "
                    "the lane closes, so no truck would ever be served here",
                )
            )
    fleet = gate.fleet
    if fleet is None or config.fleet is None:
        return problems
    if fleet.yard is not None and fit(fleet.hours, _FROM, fleet.yard.handover, _LOCAL) is None:
        problems.append(
            (
                "fleet.hours",
                f"no stretch is as long as the {_min(fleet.yard.handover)} mean handover at "
                "the yard: no container would ever be handed over",
            )
        )
    if fit(fleet.hours, _FROM, fleet.round_trip, _LOCAL) is None:
        problems.append(
            (
                "fleet.hours",
                f"no stretch is as long as the {_min(fleet.round_trip)} mean round trip: a "
                "carrier leaves only when it is back within its hours, so none would run",
            )
        )
        return problems
    for i, carrier in enumerate(fleet.carriers):
        if fit_avoiding(fleet.hours, carrier.charging, _FROM, fleet.round_trip, _LOCAL) is None:
            problems.append(
                (
                    f"fleet.carriers[{i}].charging",
                    f"leaves no stretch of the fleet's hours as long as the "
                    f"{_min(fleet.round_trip)} mean round trip: this carrier would never run",
                )
            )
    return problems
