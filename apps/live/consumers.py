"""A household's live socket: flows after each batch, overload warnings, notifications.

The reader must be allowed raw consumption data (the data-access policy) when it connects
and stays so: a removed grant, a deactivated account or a changed role closes the stream
at once (`access.changed`, sent by apps.live.signals), and access is also re-checked with
the first frame after each minute, which catches a grant that lapsed on its own (an
installer's assignment ending).
"""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404

from apps.accounts import mfa
from apps.live import selectors as live_selectors
from apps.live.services import household_group
from apps.privacy.policy import Resolution, consumption_access

RECHECK_EVERY_S = 60.0
CLOSE_NOT_ALLOWED = 4404  # the same answer for "no such household" and "not yours"
CLOSE_ACCESS_ENDED = 4403


class HouseholdLiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.household_id = str(self.scope["url_route"]["kwargs"]["household_id"])
        if not await self._allowed(record=True):
            # Accepted then closed, so a browser sees why (a refused handshake is a bare 403).
            await self.accept()
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.group = household_group(self.household_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        last, history = await self._snapshot()
        await self.send_json(
            {"type": "hello", "household": self.household_id, "last": last, "history": history}
        )

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def household_event(self, message: dict[str, Any]) -> None:
        if not hasattr(self, "group"):
            return  # closed: a message already on its way
        if time.monotonic() - self.checked_at > RECHECK_EVERY_S and not await self._allowed():
            await self._end()
            return
        await self.send_json(message["payload"])

    async def access_changed(self, message: dict[str, Any]) -> None:
        if not await self._allowed():
            await self._end()

    async def _end(self) -> None:
        """Leave the group before closing: nothing more reaches this socket."""
        await self.channel_layer.group_discard(self.group, self.channel_name)
        del self.group
        await self.close(code=CLOSE_ACCESS_ENDED)

    @database_sync_to_async
    def _allowed(self, record: bool = False) -> bool:
        """The policy on a fresh copy of the user: its role or activity may have changed."""
        self.checked_at = time.monotonic()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return False
        user = get_user_model().objects.filter(pk=user.pk, is_active=True).first()
        if user is None:
            return False
        if mfa.mfa_required_for(user) and not mfa.session_verified(user, self.scope.get("session")):
            return False  # staff watch only from a session that gave its second factor
        try:
            consumption_access(
                user=user,
                household_id=self.household_id,
                resolution=Resolution.RAW,
                what="live stream" if record else "",
                record=record,  # logged when the stream opens, not at each re-check
            )
        except (Http404, PermissionDenied):
            return False
        return True

    @database_sync_to_async
    def _snapshot(self) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        return (
            live_selectors.live_snapshot(household_id=self.household_id),
            live_selectors.live_history(household_id=self.household_id),
        )
