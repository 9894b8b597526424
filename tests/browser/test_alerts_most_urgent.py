"""The risk-alerts panel lists the 50 most urgent alerts and counts them all. Found by a
tester as a lane controller on a sped-up simulated day: the header said "(50 open of 50)"
with 118 open, and the panel held the 50 newest alerts, sorted: an older open high alert
(a cloned plate holding its truck) was not on it once 50 newer ones, medium or already
acknowledged, had come."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from services.bootstrap import Infrastructure
from services.db.alert_tables import AlertRow
from tests.browser.test_control_room import log_in
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def alert_row(alert_id: str, *, severity: str, status: str, raised_at: datetime) -> AlertRow:
    return AlertRow(
        alert_id=alert_id,
        rule="cloned_plate" if severity == "high" else "overweight",
        severity=severity,
        subject=f"manifest:{alert_id}",
        gate_id="huu-nghi",
        raised_at=raised_at,
        explanation="seeded",
        evidence=[],
        hold=False,
        held_visit_id=None,
        status=status,
        status_by="bob" if status != "open" else None,
        status_reason=None,
        status_at=None,
        created_at=raised_at,
        published_at=raised_at,
    )


async def an_old_high_alert_and_many_newer(infra: Infrastructure) -> None:
    async with infra.sessions() as session, session.begin():
        session.add(alert_row("al-old-high", severity="high", status="open", raised_at=T0))
        session.add_all(
            alert_row(
                f"al-{n:02}",
                severity="medium",
                status="acknowledged" if n < 5 else "open",
                raised_at=T0 + timedelta(minutes=10 + n),
            )
            for n in range(55)
        )
        session.add(alert_row("al-gone", severity="high", status="dismissed", raised_at=T0))


async def test_the_panel_lists_the_most_urgent_and_counts_them_all(
    browser: Browser, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path, seed=an_old_high_alert_and_many_newer) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        await expect(page.locator("#alert-count")).to_have_text(
            "(51 open of 56; the 50 most urgent listed)"
        )
        await expect(page.locator("[data-alert]")).to_have_count(50)
        await expect(page.locator("[data-alert]").first).to_have_attribute(
            "data-alert", "al-old-high"
        )
        await expect(page.locator('[data-alert][data-status="acknowledged"]')).to_have_count(0)
        await expect(page.locator('[data-alert="al-gone"]')).to_have_count(0)
        await page.close()
