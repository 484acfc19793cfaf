from django.urls import path

from apps.households.consumers import HouseholdEventsConsumer

websocket_urlpatterns = [
    path("ws/households/<uuid:household_id>/", HouseholdEventsConsumer.as_asgi()),
]
