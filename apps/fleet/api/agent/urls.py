"""/api/agent/v1/: the boxes' API. Not wrapped in a request transaction: ingest has its own."""

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.urls import path
from rest_framework.views import APIView

from apps.fleet.api.agent import views


def _view(view_class: type[APIView]) -> Callable[..., Any]:
    return transaction.non_atomic_requests(view_class.as_view())


app_name = "api-agent-v1"
urlpatterns = [
    path("provision/", _view(views.ProvisionView), name="provision"),
    path("heartbeat/", _view(views.HeartbeatView), name="heartbeat"),
    path("telemetry/", _view(views.TelemetryView), name="telemetry"),
    path("commands/", _view(views.CommandListView), name="commands"),
    path("commands/<uuid:command_id>/ack/", _view(views.CommandAckView), name="command-ack"),
]
