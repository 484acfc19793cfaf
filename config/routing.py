from django.urls import path

from apps.live.consumers import HouseholdLiveConsumer

websocket_urlpatterns = [
    path("ws/households/<uuid:household_id>/", HouseholdLiveConsumer.as_asgi()),
]
