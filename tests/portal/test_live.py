"""The live page and the notifications: what the server renders before the socket speaks.

Frames are made by the live service itself (apps.live.services.live_push) from a batch, so
the page is tested against the frame the socket also sends.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import timezone

from apps.devices.models import DeviceKind
from apps.live.models import Notification, OverloadLevel
from apps.live.services import live_push
from apps.telemetry.models import GuardAction
from gateway_agent.protocol import DeviceReading, MeterReading, TelemetryBatch
from tests.conftest import World, mfa_login
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def client_for(world: World, role: str) -> Client:
    client = Client()
    mfa_login(client, world.users[role])
    return client


def url(world: World, page: str, household: Any = None) -> str:
    household = household or world.household
    return {
        "live": f"/households/{household.pk}/live/",
        "notifications": f"/households/{household.pk}/notifications/",
        "read": f"/households/{household.pk}/notifications/read/",
    }[page]


def push(
    world: World,
    *,
    import_w: int,
    appliance_w: int,
    pv_w: int = 0,
    ago: timedelta | None = None,
    **meter: Any,
) -> Any:
    """A batch's newest state pushed as the live service does after an ingest (`ago`: then)."""
    now = timezone.now() - (ago or timedelta())
    pv = DeviceFactory(
        household=world.household, gateway=world.gateways["ours"], name="Roof",
        kind=DeviceKind.PV_INVERTER,
    )  # fmt: skip
    batch = TelemetryBatch(
        batch_id=uuid.uuid4(),
        serial=world.gateways["ours"].serial,
        meter=[
            MeterReading(
                timestamp=now,
                meter_id="M1",
                import_wh={"1": 1000},
                import_w=import_w,
                voltage_v=meter.get("voltage_v", [230.0]),
                current_a=meter.get("current_a", [import_w / 230]),
            )
        ],
        devices=[
            DeviceReading(device_id=world.devices["ours"].pk, timestamp=now, power_w=appliance_w),
            DeviceReading(device_id=pv.pk, timestamp=now, power_w=pv_w),
        ],
    )
    return live_push(household=world.household, batch=batch, last_seen=now)


def box_seen(world: World, ago: timedelta) -> None:
    gateway = world.gateways["ours"]
    gateway.last_seen_at = timezone.now() - ago
    gateway.save(update_fields=["last_seen_at"])


def test_the_owner_sees_the_snapshot_figures_and_the_box_online(world: World) -> None:
    box_seen(world, timedelta(seconds=30))
    push(world, import_w=1840, appliance_w=1500, pv_w=1200)
    page = client_for(world, "household_owner").get(url(world, "live")).content.decode()
    assert 'data-testid="house-w">3.04 kW<' in page  # 1840 W bought + 1200 W of solar
    assert 'data-testid="pv-w">1.20 kW<' in page
    assert 'data-testid="grid-w">1.84 kW<' in page
    assert world.devices["ours"].name in page and "1.50 kW" in page
    assert 'data-testid="live-flows"' in page and 'data-testid="live-chart"' in page
    assert 'id="live-frame" type="application/json"' in page  # the first frame, for live.js
    assert 'src="/static/portal/live.js"' in page and "<script>" not in page  # no inline JS
    offline = page.split('data-testid="offline"')[1].split(">")[0]
    assert "hidden" in offline  # the box is online: no banner
    overload = page.split('data-testid="overload"')[1].split(">")[0]
    assert "hidden" in overload  # 1.84 kW of a 9.2 kVA supply


def test_before_the_first_batch_the_page_waits_and_says_the_box_is_offline(world: World) -> None:
    page = client_for(world, "household_member").get(url(world, "live")).content.decode()
    assert "Waiting for the first readings from your box." in page
    assert "Box offline — no data received yet" in page


def test_svg_sizes_keep_a_decimal_point_in_every_language(world: World) -> None:
    """A French or Dutch page writes 0,5 for a half: SVG lengths must not follow."""
    owner = world.users["household_owner"]
    owner.language = "fr"
    owner.save(update_fields=["language"])
    box_seen(world, timedelta(seconds=30))
    push(world, import_w=1333, appliance_w=777, pv_w=0)
    page = client_for(world, "household_owner").get(url(world, "live")).content.decode()
    assert "Direct" in page or "direct" in page  # the French page
    assert not re.findall(r'(?:width|x|y)="[0-9]+,[0-9]', page)


def test_an_old_last_seen_shows_the_box_offline(world: World) -> None:
    box_seen(world, timedelta(hours=2))
    push(world, import_w=400, appliance_w=100, ago=timedelta(hours=2))
    page = client_for(world, "household_owner").get(url(world, "live")).content.decode()
    offline = page.split('data-testid="offline"')[1].split("</div>")[0]
    assert "hidden" not in offline.split(">")[0]
    assert "Box offline — last seen" in offline
    stale = page.split('data-testid="live-stale"')[1].split("</span>")[0]
    assert "hidden" not in stale.split(">")[0] and "Delayed data from" in stale  # a backlog


def test_a_batch_just_taken_shows_the_box_online_between_heartbeats(world: World) -> None:
    box_seen(world, timedelta(hours=2))  # the last heartbeat
    push(world, import_w=400, appliance_w=100)  # but a batch came in now
    page = client_for(world, "household_owner").get(url(world, "live")).content.decode()
    assert "hidden" in page.split('data-testid="offline"')[1].split(">")[0]


def test_an_overload_shows_the_banner_with_what_to_switch_off(world: World) -> None:
    box_seen(world, timedelta(seconds=10))
    frame = push(world, import_w=8600, appliance_w=3000, current_a=[37.5])  # 94 % of 40 A
    assert frame["overload"]["level"] == OverloadLevel.WARNING
    page = client_for(world, "household_owner").get(url(world, "live")).content.decode()
    banner = page.split('data-testid="overload"')[1].split('<div class="live-grid">')[0]
    assert "hidden" not in banner.split(">")[0]
    assert "close to its power limit" in banner
    assert world.devices["ours"].name in banner.split('data-testid="switch-off"')[1]
    assert 'aria-live="assertive"' in page


def test_guard_actions_and_overload_episodes_are_listed(world: World) -> None:
    box_seen(world, timedelta(seconds=10))
    push(world, import_w=8600, appliance_w=3000, current_a=[37.5])
    GuardAction.objects.create(
        household=world.household, gateway=world.gateways["ours"], device=world.devices["ours"],
        batch_id=uuid.uuid4(), time=timezone.now(), action="shed", load_va=9400, limit_va=9200,
        device_power_w=3000,
    )  # fmt: skip
    page = client_for(world, "household_owner").get(url(world, "live")).content.decode()
    actions = page.split('data-testid="guard-actions"')[1].split("</table>")[0]
    assert "Switched off" in actions and world.devices["ours"].name in actions
    episodes = page.split('data-testid="episodes"')[1].split("</table>")[0]
    assert "Near the limit" in episodes and "ongoing" in episodes


@pytest.mark.parametrize("page", ["live", "notifications"])
@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("household_owner", 200), ("household_member", 200),
        ("neighbour_owner", 404), ("abroad_owner", 404),  # another household: 404, not 403
        ("dso_staff", 403),  # raw data needs the household's consent
        ("installer", 404), ("third_party", 404), ("telco_operator", 404),
    ],
)  # fmt: skip
def test_only_the_household_sees_its_live_page_and_notifications(
    world: World, page: str, role: str, status: int
) -> None:
    assert client_for(world, role).get(url(world, page)).status_code == status


def test_anonymous_readers_are_sent_to_log_in(world: World) -> None:
    for page in ("live", "notifications"):
        response = Client().get(url(world, page))
        assert response.status_code == 302 and "/login/" in response["Location"]


def a_notification(world: World, household: Any = None, **fields: Any) -> Notification:
    data = {"load_va": 9600, "limit_va": 9200, "load_pct": 104.3, "trip_in_s": 420,
            "scheduled_trip_in_s": None, "switch_off": [{"id": "x", "name": "Oven",
            "power_w": 2400, "starts_at": None}], "postpone": []}  # fmt: skip
    return Notification.objects.create(
        household=household or world.household, kind=Notification.Kind.OVERLOAD,
        level=fields.pop("level", OverloadLevel.CRITICAL), data=data, **fields,
    )  # fmt: skip


def test_the_notifications_list_in_words_and_mark_all_read(world: World) -> None:
    world.household.timezone = "Europe/Brussels"
    world.household.save()
    note = a_notification(world)
    old = a_notification(world, level=OverloadLevel.WARNING, read_at=timezone.now())
    client = client_for(world, "household_owner")
    page = client.get(url(world, "notifications")).content.decode()
    assert "Your supply will trip in 7 minutes at this rate" in page
    assert "Switch off: Oven (2.4 kW)." in page
    assert "You are close to your power limit" in page
    assert page.count('data-testid="unread"') == 1 and 'data-testid="mark-read"' in page
    local = timezone.localtime(note.created_at, ZoneInfo("Europe/Brussels"))
    assert local.strftime("%H:%M") in page  # shown in the household's time zone

    assert client.get(url(world, "read")).status_code == 405  # a change needs a POST
    response = client.post(url(world, "read"))
    assert response.status_code == 302 and response["Location"] == url(world, "notifications")
    note.refresh_from_db()
    old.refresh_from_db()
    assert note.read_at is not None and old.read_at < note.read_at
    page = client.get(url(world, "notifications")).content.decode()
    assert 'data-testid="unread"' not in page and 'data-testid="mark-read"' not in page


def test_mark_read_needs_the_csrf_token(world: World) -> None:
    a_notification(world)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["household_owner"])
    assert client.post(url(world, "read")).status_code == 403
    assert Notification.objects.unread().count() == 1


@pytest.mark.parametrize(
    ("role", "status"), [("neighbour_owner", 404), ("abroad_owner", 404), ("dso_staff", 403)]
)
def test_nobody_else_marks_our_notifications_read(world: World, role: str, status: int) -> None:
    a_notification(world)
    assert client_for(world, role).post(url(world, "read")).status_code == status
    assert Notification.objects.filter(household=world.household).unread().count() == 1


def test_the_nav_badge_counts_unread_notifications_of_ones_own_households(world: World) -> None:
    a_notification(world)
    a_notification(world)
    a_notification(world, read_at=timezone.now())
    a_notification(world, household=world.neighbour)  # not ours
    page = client_for(world, "household_member").get(f"/households/{world.household.pk}/")
    text = page.content.decode()
    assert 'data-testid="notification-badge"' in text
    assert text.split('data-testid="notification-badge"')[1].split("</span>")[0].endswith(">2")
    assert f'href="{url(world, "notifications")}" data-testid="notifications-link"' in text
    neighbour = client_for(world, "neighbour_owner").get("/", follow=True).content.decode()
    assert neighbour.split('data-testid="notification-badge"')[1].split("</span>")[0][-2:] == ">1"

    client_for(world, "household_owner").post(url(world, "read"))
    text = client_for(world, "household_owner").get(url(world, "live")).content.decode()
    assert 'data-testid="notifications-link"' in text
    assert 'data-testid="notification-badge"' not in text


BADGE = Template("{% load portal_live %}{% notification_nav as bell %}{{ bell.unread }}")


@pytest.mark.parametrize(
    ("role", "queries", "shown"),
    [("household_owner", 1, "1"), ("household_member", 1, "1"), ("dso_staff", 0, ""),
     ("platform_admin", 0, ""), ("installer", 0, ""), (None, 0, "")],
)  # fmt: skip
def test_the_badge_costs_one_query_and_nothing_for_staff_or_anonymous(
    world: World, django_assert_num_queries: Any, role: str | None, queries: int, shown: str
) -> None:
    from django.contrib.auth.models import AnonymousUser

    a_notification(world)
    user = world.users[role] if role else AnonymousUser()
    with django_assert_num_queries(queries):
        assert BADGE.render(Context({"user": user})) == shown


def test_the_household_and_energy_pages_link_to_the_live_page_for_those_it_is_for(
    world: World,
) -> None:
    live = 'data-testid="live-link"'
    owner = client_for(world, "household_owner")
    assert live in owner.get(f"/households/{world.household.pk}/").content.decode()
    assert live in owner.get(f"/households/{world.household.pk}/energy/").content.decode()
    dso = client_for(world, "dso_staff")  # daily data only: the energy page, not the live one
    energy = dso.get(f"/households/{world.household.pk}/energy/?period=month")
    assert energy.status_code == 200 and live not in energy.content.decode()
    assert live not in dso.get(f"/households/{world.household.pk}/").content.decode()
