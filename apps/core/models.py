"""Base models shared by every app."""

import uuid

from django.db import models


class UUIDModel(models.Model):
    """Public ids are UUIDs: not guessable, and never confused with a count in a response."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
