"""The base of every API viewset: objects only through `restrict()`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from rest_framework import exceptions, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.permissions import Action


class RestrictedViewSetMixin:
    """Gets its queryset from `Model.objects.restrict(user, action)`.

    An object outside the user's scope is simply not in the queryset, so a
    cross-tenant or cross-household lookup answers 404, never 403 with a hint.
    """

    model: type[Model]
    # The restrict() action for each viewset action; reads default to VIEW.
    scope_actions: dict[str, Action] = {"list": Action.VIEW, "retrieve": Action.VIEW}
    request: Any

    def restrict_action(self) -> Action:
        return self.scope_actions.get(getattr(self, "action", None) or "", Action.VIEW)

    def get_queryset(self) -> QuerySet[Any]:
        manager: Any = self.model._default_manager
        return manager.restrict(self.request.user, self.restrict_action())


class RestrictedReadOnlyViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Model validation errors become 400 with their messages, never a 500."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)
