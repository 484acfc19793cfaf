"""A household's event stream (group `household.<id>`); later issues push live flows on it."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.core.permissions import Action
from apps.households.models import Household


def household_group(household_id: Any) -> str:
    return f"household.{household_id}"


class HouseholdEventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        household_id = self.scope["url_route"]["kwargs"]["household_id"]
        if not await self._may_view(household_id):
            await self.close(code=4404)
            return
        self.group = household_group(household_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def household_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["payload"])

    @database_sync_to_async
    def _may_view(self, household_id: Any) -> bool:
        user = self.scope.get("user")
        return Household.objects.restrict(user, Action.VIEW).filter(pk=household_id).exists()
