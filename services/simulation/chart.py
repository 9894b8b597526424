"""The chart of a simulated day (PNG): trucks waiting per direction, and lane and carrier
utilisation, hour by hour; one column per policy. Matplotlib with the Agg backend (no display).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

_COLOURS = {"export": "tab:blue", "import": "tab:orange"}
_KINDS = {
    "standard": "tab:green",
    "scanner": "tab:purple",
    "inspection": "tab:red",
    "hazmat": "tab:brown",
}


def render_day(kpis: Mapping[str, Mapping[str, Any]], path: Path, *, title: str) -> None:
    """Write the chart of `kpis` (policy -> its KPIs with `series`) to `path` (PNG)."""
    policies = list(kpis)
    fig, axes = plt.subplots(
        2, len(policies), figsize=(6.5 * len(policies), 7.5), sharex=True, squeeze=False
    )
    top = max(
        (max(v) for k in kpis.values() for v in k["series"]["queue_max"].values() if v),
        default=1,
    )
    for column, policy in enumerate(policies):
        series = kpis[policy]["series"]
        hours = [*series["hour"], 24]  # each value holds for its hour: repeat the last
        queue, use = axes[0][column], axes[1][column]
        for direction, values in series["queue_max"].items():
            colour = _COLOURS.get(direction)
            peak, mean = _held(values), _held(series["queue_mean"][direction])
            queue.step(hours, peak, where="post", color=colour, label=f"{direction}: max")
            queue.step(hours, mean, where="post", color=colour, ls="--", label=f"{direction}: mean")
        queue.set_title(f"{policy}: trucks waiting (per hour)")
        queue.set_ylim(0, max(top, 1) * 1.05)
        queue.set_ylabel("trucks")
        queue.legend(fontsize=7, loc="upper left")
        for name, values in series["utilisation"].items():
            direction, _, kind = name.partition(" ")
            if name == "carriers":
                use.step(hours, _held(values), where="post", color="black", lw=2, label="carriers")
                continue
            style = "-" if direction == "export" else ":"
            colour = _KINDS.get(kind)
            use.step(hours, _held(values), where="post", color=colour, ls=style, label=name)
        use.set_title(f"{policy}: utilisation (per hour)")
        use.set_ylim(0, 1.05)
        use.set_xlabel("local hour")
        use.set_xticks(range(0, 25, 3))
        use.legend(fontsize=6, ncol=2, loc="upper left")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)


def _held(values: list[float]) -> list[float]:
    return [*values, values[-1]] if values else values
