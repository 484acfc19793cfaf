"""The live socket, in-process: who may subscribe, the first message, and losing access."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.households import services as household_services
from apps.live.consumers import CLOSE_ACCESS_ENDED, CLOSE_NOT_ALLOWED, HouseholdLiveConsumer
from apps.live.services import frame_key, publish
from apps.privacy import consent
from apps.privacy.models import AccessLogEntry
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)


def communicator(user: Any, household_id: Any) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(HouseholdLiveConsumer.as_asgi(), f"/ws/households/{household_id}/")
    comm.scope["url_route"] = {"kwargs": {"household_id": household_id}}
    comm.scope["user"] = user
    return comm


def test_the_owner_gets_the_last_frame_then_each_new_one(world: World) -> None:
    household = world.household
    cache.set(frame_key(household.pk), {"type": "flows", "house_w": 420})

    async def scenario() -> list[dict]:
        comm = communicator(world.users["household_owner"], household.pk)
        connected, _ = await comm.connect()
        assert connected
        hello = await comm.receive_json_from(timeout=5)
        await sync_to_async(publish)(household.pk, {"type": "flows", "house_w": 510})
        pushed = await comm.receive_json_from(timeout=5)
        await comm.disconnect()
        return [hello, pushed]

    hello, pushed = async_to_sync(scenario)()
    assert hello == {
        "type": "hello", "household": str(household.pk),
        "last": {"type": "flows", "house_w": 420}, "history": [],
    }  # fmt: skip
    assert pushed == {"type": "flows", "house_w": 510}


@pytest.mark.parametrize(
    "role", ["neighbour_owner", "abroad_owner", "third_party", "dso_staff", None]
)
def test_others_cannot_subscribe(world: World, role: str | None) -> None:
    """DSO staff see daily data by default: a live stream is raw data, so no."""
    user = world.users[role] if role else None

    async def scenario() -> dict:
        comm = communicator(user, world.household.pk)
        assert (await comm.connect())[0]  # accepted only to say why it closes
        closed: dict = await comm.receive_output(timeout=5)
        return closed

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": CLOSE_NOT_ALLOWED}


def test_a_member_removed_from_the_household_loses_the_stream_at_once(world: World) -> None:
    member, owner = world.users["household_member"], world.users["household_owner"]

    async def scenario() -> dict:
        comm = communicator(member, world.household.pk)
        connected, _ = await comm.connect()
        assert connected
        await comm.receive_json_from(timeout=5)  # hello
        await sync_to_async(household_services.member_remove)(
            household=world.household, user=member, removed_by=owner
        )
        closed: dict = await comm.receive_output(timeout=5)
        await sync_to_async(publish)(world.household.pk, {"type": "flows", "house_w": 1})
        assert await comm.receive_nothing(timeout=0.3)
        return closed

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": CLOSE_ACCESS_ENDED}


def test_a_deactivated_account_loses_the_stream(world: World) -> None:
    owner = world.users["household_owner"]

    def deactivate() -> None:
        owner.is_active = False
        owner.save()

    async def scenario() -> dict:
        comm = communicator(owner, world.household.pk)
        assert (await comm.connect())[0]
        await comm.receive_json_from(timeout=5)
        await sync_to_async(deactivate)()
        closed: dict = await comm.receive_output(timeout=5)
        return closed

    assert async_to_sync(scenario)()["code"] == CLOSE_ACCESS_ENDED


def test_a_raw_consent_opens_the_stream_to_the_dso_and_its_withdrawal_closes_it(
    world: World,
) -> None:
    """Consent changes the answer: granted, the DSO watches live (the opening is logged);
    withdrawn, its socket closes at once, not at the next minute's re-check."""
    dso, owner = world.users["dso_staff"], world.users["household_owner"]

    def answer(granted: bool) -> None:
        consent.consent_set(
            household=world.household, recipient_kind="dso", purpose="grid_operation",
            resolution="raw", granted=granted, by=owner,
        )  # fmt: skip

    answer(True)
    device = TOTPDevice.objects.create(user=dso, name="phone", confirmed=True)

    async def scenario() -> dict:
        comm = communicator(dso, world.household.pk)
        comm.scope["session"] = {DEVICE_ID_SESSION_KEY: device.persistent_id}
        assert (await comm.connect())[0]
        hello = await comm.receive_json_from(timeout=5)
        assert hello["type"] == "hello"
        await sync_to_async(answer)(False)
        closed: dict = await comm.receive_output(timeout=5)
        return closed

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": CLOSE_ACCESS_ENDED}
    entry = AccessLogEntry.objects.get()
    assert (entry.reader, entry.resolution, entry.what) == (dso, "raw", "live stream")


def test_staff_watch_only_from_a_session_that_gave_its_second_factor(world: World) -> None:
    """Consent given, but a password-only session: the DSO's socket is refused."""
    consent.consent_set(
        household=world.household, recipient_kind="dso", purpose="grid_operation",
        resolution="raw", granted=True, by=world.users["household_owner"],
    )  # fmt: skip

    async def scenario() -> dict:
        comm = communicator(world.users["dso_staff"], world.household.pk)
        comm.scope["session"] = {}
        assert (await comm.connect())[0]
        closed: dict = await comm.receive_output(timeout=5)
        return closed

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": CLOSE_NOT_ALLOWED}
