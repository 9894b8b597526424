"""The replay's report: one self-contained HTML file (charts as embedded PNG, no external
asset), recorded and replayed overlaid: queue length per lane over time, the dwell
distribution, carrier utilisation per hour, and the KPI table. Times a person reads (the
charts' axes, the trucks' "seen") are on the gate's clock, its zone named; the JSON files
beside it keep ISO 8601 UTC (until 2026-12-05 the charts were in UTC)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from lanes.model import Gate
from lanes.values import zone_name
from services.replay.compare import Decision, _at, latest
from services.replay.kpis import carrier_utilisation, queue_series

SIDES = (("recorded", "#1f77b4", "-"), ("replayed", "#d62728", "--"))
MAX_LANE_PANELS = 12


def queue_panels(
    series: Mapping[str, Mapping[str, Sequence[tuple[datetime, int]]]],
    *,
    gate: Gate | None,
    limit: int = MAX_LANE_PANELS,
) -> tuple[list[str], list[str]]:
    """The lanes drawn (in the gate's order) and those left out: of the lanes with a queue
    on either side, first those whose queue differs between the sides, then the most
    queued. (Found by a stranger's try: the first 12 in text order were drawn, HN-E10
    before HN-E2, and a 13th and 14th lane were dropped without a word.)"""
    queued = {
        lane for s in series.values() for lane, points in s.items() if any(n for _, n in points)
    }

    def differs(lane: str) -> bool:
        sides = [list(s.get(lane, [])) for s in series.values()]
        return any(side != sides[0] for side in sides)

    def most(lane: str) -> int:
        return max((sum(n for _, n in s.get(lane, [])) for s in series.values()), default=0)

    ranked = sorted(queued, key=lambda lane: (not differs(lane), -most(lane), lane))
    order = {lane.lane_id: i for i, lane in enumerate(gate.lanes)} if gate is not None else {}

    def in_gate_order(lanes: list[str]) -> list[str]:
        return sorted(lanes, key=lambda lane: (order.get(lane, len(order)), lane))

    return in_gate_order(ranked[:limit]), in_gate_order(ranked[limit:])


def on_gate_clock(at: datetime, utc_offset: timedelta) -> datetime:
    """`at` as the gate's wall clock shows it (naive: matplotlib would draw an aware
    datetime in UTC)."""
    return (at.astimezone(UTC) + utc_offset).replace(tzinfo=None)


# the time labels a lane's panel (a third of the page wide) has room for: with the default
# (hourly over an evening and a night, 12 labels) they ran into one another, "19:0020:00"
# (found replaying a recorded New Year's Eve of a gate at UTC-05:00)
MAX_TIME_TICKS = 6
# and the fewest: with matplotlib's 5, a range of 3 to 5 hours fitted neither hourly (too
# few) nor half-hourly labels (too many), and the locator warned on the analyst's terminal
# ("AutoDateLocator was unable to pick an appropriate interval") and drew 30-minute ones;
# with 3, so did 2.5 to 3 hours. With 2, every span fits one of its intervals (the
# locator takes an interval when the span is at most MAX_TIME_TICKS - 1 of them)
MIN_TIME_TICKS = 2


def _time_axis(ax: Any, utc_offset: timedelta) -> None:
    locator = mdates.AutoDateLocator(  # type: ignore[no-untyped-call]
        minticks=MIN_TIME_TICKS, maxticks=MAX_TIME_TICKS
    )
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_xlabel(f"gate time ({zone_name(utc_offset)})", fontsize=8)


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode()


def _queue_chart(
    series: Mapping[str, Mapping[str, Sequence[tuple[datetime, int]]]],
    *,
    gate: Gate | None,
    offset: timedelta,
) -> str:
    """Queue length per lane, a panel a lane, on the gate's clock."""
    lanes, left_out = queue_panels(series, gate=gate)
    cols = 3
    rows = max(1, -(-len(lanes) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.4 * rows), squeeze=False, sharex=True)
    for ax, lane in zip(axes.flat, lanes, strict=False):
        for name, colour, style in SIDES:
            points = series[name].get(lane, [])
            ax.step(
                [on_gate_clock(t, offset) for t, _ in points],
                [n for _, n in points],
                where="post",
                color=colour,
                linestyle=style,
                label=name,
            )
        ax.set_title(lane, fontsize=9)
        ax.tick_params(labelsize=7)
        _time_axis(ax, offset)
    for ax in list(axes.flat)[len(lanes) :]:
        ax.set_visible(False)
    if lanes:
        axes.flat[0].legend(fontsize=7)
    title = f"trucks queued per lane (5-minute ticks, gate time {zone_name(offset)})"
    if left_out:
        title += f"\nnot drawn ({MAX_LANE_PANELS} panels at most): {', '.join(left_out)}"
    fig.suptitle(title)
    fig.tight_layout()
    png = _png(fig)
    plt.close(fig)
    return png


def charts(
    recorded: Sequence[Decision], replayed: Sequence[Decision], *, gate: Gate | None
) -> dict[str, str]:
    """Base64 PNGs: `queues`, `dwell`, `carriers`."""
    sides = {"recorded": recorded, "replayed": replayed}
    offset = gate.utc_offset if gate is not None else timedelta(0)
    out: dict[str, str] = {}
    series = {name: queue_series(d) for name, d in sides.items()}
    out["queues"] = _queue_chart(series, gate=gate, offset=offset)

    fig, ax = plt.subplots(figsize=(8, 3.2))
    dwells = {
        name: [
            (_at(d["expected_done_at"]) - _at(d["decided_at"])).total_seconds() / 60
            for d in latest(sides[name]).values()
            if d.get("outcome") == "assigned" and d.get("expected_done_at")
        ]
        for name in sides
    }
    every = sorted(x for v in dwells.values() for x in v)
    top = every[int(0.99 * (len(every) - 1))] if every else 1.0  # the 1% beyond: last bin
    for name, colour, _ in SIDES:
        if dwells[name]:
            clipped = [min(x, top) for x in dwells[name]]
            ax.hist(
                clipped,
                bins=40,
                range=(0, max(top, 1.0)),
                histtype="step",
                color=colour,
                label=name,
                linewidth=1.5,
            )
    ax.set_xlabel("expected dwell, minutes (seen to done; the last bin holds the top 1%)")
    ax.set_ylabel("trucks")
    if ax.get_legend_handles_labels()[0]:  # no dwell to draw (e.g. no truck assigned)
        ax.legend()
    fig.tight_layout()
    out["dwell"] = _png(fig)
    plt.close(fig)
    if gate is not None and (gate.fleet is None or not gate.fleet.carriers):
        return out  # no carriers (Youyiguan): no chart, the KPI table says "-"

    fig, ax = plt.subplots(figsize=(8, 3.2))
    for name, colour, style in SIDES:
        hours = carrier_utilisation(sides[name], gate)
        if hours:
            xs: list[Any] = [on_gate_clock(datetime.fromisoformat(h), offset) for h in hours]
            ax.plot(
                xs,
                [v * 100 for v in hours.values()],
                color=colour,
                linestyle=style,
                marker="o",
                label=name,
            )
    ax.set_ylabel("fleet busy, % of the hour")
    ax.set_ylim(0, 105)
    if ax.get_legend_handles_labels()[0]:  # no carrier used (e.g. no truck assigned)
        ax.legend()
        _time_axis(ax, offset)
    fig.tight_layout()
    out["carriers"] = _png(fig)
    plt.close(fig)
    return out


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return html.escape(", ".join(f"{k} {v}" for k, v in value.items()))
    return html.escape("-" if value is None else str(value))


def render(
    *,
    title: str,
    summary: Mapping[str, Any],
    comparison: Mapping[str, Mapping[str, Any]],
    diff: Sequence[Mapping[str, Any]],
    images: Mapping[str, str],
    diff_rows: int = 200,
    utc_offset: timedelta = timedelta(0),
) -> str:
    """The page; `utc_offset`: the gate's, for the times a person reads."""
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{_cell(v.get('recorded'))}</td>"
        f"<td>{_cell(v.get('replayed'))}</td><td>{_cell(v.get('change', ''))}</td></tr>"
        for name, v in comparison.items()
    )
    trucks = "".join(
        "<tr>"
        + "".join(
            f"<td>{_cell(x)}</td>"
            for x in (
                d["plate"],
                _seen(d["seen_at"], utc_offset),
                ", ".join(d["changed"]),
                _side(d["recorded"]),
                _side(d["replayed"]),
            )
        )
        + "</tr>"
        for d in diff[:diff_rows]
    )
    more = (
        f"<p>... and {len(diff) - diff_rows} more (diff.jsonl).</p>"
        if len(diff) > diff_rows
        else ""
    )
    seen = f"<th>seen ({zone_name(utc_offset)})</th>"
    facts = "".join(f"<li>{html.escape(k)}: {_cell(v)}</li>" for k, v in summary.items())
    figures = "".join(
        f'<h2>{html.escape(caption)}</h2><img alt="{html.escape(caption)}" '
        f'src="data:image/png;base64,{images[key]}">'
        for key, caption in (
            ("queues", "Queue length per lane"),
            ("dwell", "Dwell distribution"),
            ("carriers", "Carrier utilisation"),
        )
        if key in images
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;font-size:13px}}th{{background:#eee}}
img{{max-width:100%}}</style></head><body>
<h1>{html.escape(title)}</h1><ul>{facts}</ul>
<h2>KPIs</h2><table><tr><th>KPI</th><th>recorded</th><th>replayed</th><th>change</th></tr>{rows}</table>
{figures}
<h2>Trucks whose decision changed ({len(diff)})</h2>
<table><tr><th>plate</th>{seen}<th>changed</th><th>recorded</th><th>replayed</th></tr>{trucks}</table>{more}
</body></html>
"""


def _side(side: Mapping[str, Any] | None) -> str:
    if side is None:
        return "no decision"
    where = side.get("lane_id") or side.get("carrier_slot") or "-"
    wait = side.get("wait_min")
    shown = "-" if wait is None else f"{wait:.1f}"
    return f"{side.get('outcome')} {where} wait {shown} min"


def _seen(at: str | None, utc_offset: timedelta) -> str | None:
    return None if not at else f"{on_gate_clock(_at(at), utc_offset):%Y-%m-%d %H:%M}"
