"""`is_online` for templates of the portal and the console (the rule is in fleet selectors)."""

from __future__ import annotations

from typing import Any

from django import template

from apps.fleet.selectors import gateway_online

register = template.Library()


@register.filter
def is_online(gateway: Any) -> bool:
    return gateway_online(gateway)
