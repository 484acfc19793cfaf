"""A paired box for the live tests (the fleet tests' bench), and the channel layer's ear."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer

from apps.live.services import household_group
from tests.fleet.conftest import box, paired_box, unclaimed  # noqa: F401  (fixtures)


@pytest.fixture
def in_memory_layer(settings: Any) -> Iterator[None]:
    """The in-process layer, for a test that listens between synchronous calls: the Redis
    pub/sub layer lives in one event loop (the server tests in test_live_servers.py run it)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


class Listener:
    """A channel in a household's group, as a socket's consumer would be (in_memory_layer)."""

    def __init__(self, household_id: Any) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(household_group(household_id), self.channel)

    def messages(self) -> list[dict[str, Any]]:
        received = []
        while True:
            try:
                received.append(async_to_sync(self._receive)())
            except TimeoutError:
                return received

    async def _receive(self) -> dict[str, Any]:
        import asyncio

        return await asyncio.wait_for(self.layer.receive(self.channel), timeout=0.2)
