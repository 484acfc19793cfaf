"""The live page in a real browser: batches go in through the signed agent API, the page follows.

The live page needs WebSockets, which pytest-django's live_server (WSGI) does not speak, so
the test runs the project's ASGI application under uvicorn in a thread of the test process:
the test database (SQLite in memory, or PostgreSQL) and the channel layer (in memory, or
Redis pub/sub when REDIS_URL is set) are the ones the test writes to, as with live_server.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from playwright.sync_api import Page, expect

from apps.live.models import Notification
from gateway_agent import signing
from tests.conftest import World
from tests.e2e.test_login import log_in
from tests.fleet.conftest import AGENT, METER_ID, Box

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@dataclass
class AsgiServer:
    url: str


def _application() -> Any:
    """config.asgi's application, with the static files served (live.js) as runserver does."""
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from config.asgi import application, django_asgi_app

    http = ASGIStaticFilesHandler(django_asgi_app)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await (http if scope["type"] == "http" else application)(scope, receive, send)

    return app


@pytest.fixture
def asgi_server(transactional_db: None) -> Iterator[AsgiServer]:
    config = uvicorn.Config(
        _application(), host="127.0.0.1", port=0, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield AsgiServer(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(10)


def upload(server: AsgiServer, box: Box, **meter: Any) -> None:
    """One batch, signed as the box signs it, over HTTP to the server the browser watches."""
    now = datetime.now(UTC).isoformat()
    device = meter.pop("device", None)
    actions = meter.pop("actions", [])
    body = json.dumps({
        "actions": actions,
        "batch_id": str(uuid.uuid4()),
        "serial": box.gateway.serial,
        "meter": [{"timestamp": now, "meter_id": METER_ID, "import_wh": {"1": 1_000_000},
                   "voltage_v": [230.0], **meter}],
        "devices": [{"device_id": str(device), "timestamp": now, "power_w": 2800, "on": True}]
        if device else [],
    }).encode()  # fmt: skip
    path = AGENT + "telemetry/"
    headers = signing.signed_headers(
        serial=box.gateway.serial, key_id=box.key_id,
        secret=base64.urlsafe_b64decode(box.secret), method="POST", path=path, body=body,
    )  # fmt: skip
    response = requests.post(
        server.url + path,
        data=body,
        headers={**headers, "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 201, response.text


def test_the_live_page_follows_the_batches_without_reloading(
    page: Page, asgi_server: AsgiServer, world: World, paired_box: Box, tmp_path: Path
) -> None:
    upload(asgi_server, paired_box, import_w=1200, current_a=[5.2])
    log_in(page, asgi_server, world.users["household_owner"].username)
    page.get_by_test_id("live-link").click()
    expect(page.get_by_test_id("live-status")).to_have_text("Live")
    expect(page.get_by_test_id("house-w")).to_have_text("1.20 kW")
    expect(page.get_by_test_id("offline")).to_be_hidden()  # the batch was just taken
    expect(page.get_by_test_id("overload")).to_be_hidden()
    expect(page.get_by_test_id("live-chart")).to_have_attribute("data-points", "1")

    device = world.devices["ours"]
    upload(asgi_server, paired_box, import_w=3400, current_a=[14.8], device=device.pk)
    expect(page.get_by_test_id("house-w")).to_have_text("3.40 kW")
    expect(page.get_by_test_id("grid-w")).to_have_text("3.40 kW")
    expect(page.get_by_test_id("live-chart")).to_have_attribute("data-points", "2")
    expect(page.get_by_test_id("live-chart").locator("circle")).to_have_count(2)
    expect(page.get_by_test_id("live-devices")).to_contain_text(device.name)
    expect(page.get_by_test_id("live-devices")).to_contain_text("2.80 kW")
    expect(page.get_by_test_id("gauge-text")).to_contain_text("3.4 kVA / 9.2 kVA")

    # 60 A on a 40 A fuse: the supply trips in about 8 minutes at this rate. The box's guard
    # has already switched the device off (it arrives in the same batch).
    shed = {
        "device_id": str(device.pk),
        "timestamp": datetime.now(UTC).isoformat(),
        "action": "shed",
        "load_va": 13800,
        "limit_va": 9200,
        "device_power_w": 2800,
    }
    expect(page.get_by_test_id("guard-actions")).to_contain_text("has not had to switch")
    upload(asgi_server, paired_box, import_w=13800, current_a=[60.0], device=device.pk,
           actions=[shed])  # fmt: skip
    expect(page.get_by_test_id("guard-actions")).to_contain_text(f"{device.name} (2.80 kW)")
    expect(page.get_by_test_id("guard-actions")).to_contain_text("Switched off")
    expect(page.get_by_test_id("episodes")).to_contain_text("ongoing")
    expect(page.get_by_test_id("episodes")).to_contain_text("Will trip")
    banner = page.get_by_test_id("overload")
    expect(banner).to_be_visible()
    expect(page.get_by_test_id("overload-title")).to_have_text(
        "Your supply will trip in 8 min at this rate"
    )
    expect(page.get_by_test_id("switch-off")).to_contain_text(device.name)
    expect(page.get_by_test_id("toast")).to_contain_text("Your supply will trip in 8 minutes")
    expect(page.get_by_test_id("notification-badge")).to_have_text("1")
    assert Notification.objects.filter(household=world.household).unread().count() == 1
    page.screenshot(path=tmp_path / "live.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    expect(banner).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=tmp_path / "live-phone.png", full_page=True)

    page.get_by_test_id("notifications-link").click()
    expect(page.get_by_test_id("notification")).to_contain_text("trip in 8 minutes")
    page.get_by_test_id("mark-read").click()
    expect(page.get_by_test_id("notification-badge")).to_have_count(0)


def test_a_box_that_stopped_sending_is_shown_offline(
    page: Page, asgi_server: AsgiServer, world: World
) -> None:
    log_in(page, asgi_server, world.users["household_owner"].username)
    page.goto(f"{asgi_server.url}/households/{world.household.pk}/live/")
    expect(page.get_by_test_id("live-status")).to_have_text("Live")  # the socket is up
    expect(page.get_by_test_id("offline")).to_contain_text("Box offline")  # the box is not
