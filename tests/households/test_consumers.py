"""The household event socket checks restrict() on connect (in-process; issue 5 runs a server)."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from apps.households.consumers import HouseholdEventsConsumer, household_group
from tests.conftest import World


def communicator(world: World, role: str | None, household_id) -> WebsocketCommunicator:
    app = HouseholdEventsConsumer.as_asgi()
    comm = WebsocketCommunicator(app, f"/ws/households/{household_id}/")
    comm.scope["url_route"] = {"kwargs": {"household_id": household_id}}
    comm.scope["user"] = world.users[role] if role else None
    return comm


async def connect_and_receive(comm: WebsocketCommunicator, household_id) -> dict | None:
    connected, _ = await comm.connect()
    if not connected:
        return None
    await get_channel_layer().group_send(
        household_group(household_id), {"type": "household.event", "payload": {"grid_w": 420}}
    )
    message = await comm.receive_json_from(timeout=5)
    await comm.disconnect()
    return message


@pytest.mark.django_db(transaction=True)
def test_the_owner_receives_household_events(world: World) -> None:
    comm = communicator(world, "household_owner", world.household.pk)
    assert async_to_sync(connect_and_receive)(comm, world.household.pk) == {"grid_w": 420}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["neighbour_owner", "abroad_owner", "third_party", None])
def test_others_cannot_subscribe(world: World, role: str | None) -> None:
    comm = communicator(world, role, world.household.pk)
    assert async_to_sync(connect_and_receive)(comm, world.household.pk) is None
