"""The control room loads camera images only from itself, data: and the origins
BORDERFLOW_CONTROL_IMAGE_SOURCES names (services/control/settings.py): its CSP said
`img-src 'self' data: http: https:`, so a plate read's image_ref, which whoever produces
plate reads writes, made every controller's browser fetch any URL (found by a security
review). The browser side: tests/browser/test_review_images.py."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from pydantic import ValidationError

from services.api.app import ApiContext, create_app
from services.api.ratelimit import RateLimiter
from services.cli.main import main
from services.control.routes import CSP
from services.control.settings import ControlSettings
from services.gates.loader import default_gates
from services.runtime.settings import KafkaSettings


def img_src(policy: str) -> str:
    [directive] = [d.strip() for d in policy.split(";") if d.strip().startswith("img-src ")]
    return directive


def test_with_no_image_source_set_the_page_takes_images_from_itself_and_data_only() -> None:
    assert img_src(CSP) == "img-src 'self' data:"
    assert ControlSettings().image_sources == ()


def test_the_image_sources_are_origins_as_a_browser_spells_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "BORDERFLOW_CONTROL_IMAGE_SOURCES",
        "https://Cams.Gate.example:443/, http://10.20.0.5:8080 http://[::1]:9000,"
        "https://cams.gate.example",
    )
    assert ControlSettings().image_sources == (
        "https://cams.gate.example",
        "http://10.20.0.5:8080",
        "http://[::1]:9000",
    )


@pytest.mark.parametrize(
    "given",
    [
        "*",
        "https:",
        "https://*.gate.example",
        "https://cams.gate.example/frames",
        "https://cams.gate.example; script-src *",
        "https://cams.gate.example;script-src",
        "'unsafe-inline'",
        "javascript:alert(1)",
        "data:",
        "ftp://cams.gate.example",
        "https://user:pw@cams.gate.example",
        "https://cams.gate.example?x=1",
        "https://cams.gate.example:99999",
    ],
)
def test_anything_but_an_origin_is_refused_naming_it(
    given: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each goes into the CSP as it is: a wildcard, a scheme, a path or a `;` would widen it."""
    monkeypatch.setenv("BORDERFLOW_CONTROL_IMAGE_SOURCES", f"https://ok.example,{given}")
    with pytest.raises(ValidationError) as refused:
        ControlSettings()
    [error] = refused.value.errors()
    assert error["loc"] == ("image_sources",)
    assert "is not an origin: give origins, comma-separated" in error["msg"]


async def test_the_page_its_policy_and_its_script_take_the_same_sources() -> None:
    context = ApiContext(
        sessions=cast(Any, None),  # the page reads no database
        kafka=KafkaSettings(bootstrap="127.0.0.1:9"),
        bootstrap="127.0.0.1:9",
        gates=default_gates(),
        default_gate="huu-nghi",
        limiter=RateLimiter(rate=10_000.0, burst=10_000),
    )
    app = create_app(context)
    settings = ControlSettings(image_sources=("https://cams.gate.example", "http://10.0.0.5:81"))
    app.state.control_room = SimpleNamespace(settings=settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://borderflow.test") as c:
        page = await c.get("/control")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert img_src(policy) == "img-src 'self' data: https://cams.gate.example http://10.0.0.5:81"
    assert policy.replace(img_src(policy), "img-src 'self' data:") == CSP  # the rest unchanged
    meta = '<meta name="bf-image-sources" content="https://cams.gate.example http://10.0.0.5:81">'
    assert meta in page.text


def test_a_source_refused_stops_the_api_before_it_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BORDERFLOW_CONTROL_IMAGE_SOURCES", "https:")
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/bf.db")
    monkeypatch.setenv("BORDERFLOW_VAR_DIR", str(tmp_path / "var"))

    assert main(["api"]) == 2

    assert capsys.readouterr().err == (
        "borderflow api: BORDERFLOW_CONTROL_IMAGE_SOURCES='https:': 'https:' is not an origin: "
        "give origins, comma-separated, each http(s)://host[:port] with no path, query, "
        "wildcard or credentials (e.g. https://cams.gate.example,http://10.20.0.5:8080)\n"
    )
    assert not (tmp_path / "bf.db").exists()
