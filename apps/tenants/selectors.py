from typing import Any

from apps.core.permissions import Action
from apps.tenants.models import Tenant, TenantQuerySet


def tenant_list(*, user: Any) -> TenantQuerySet:
    return Tenant.objects.restrict(user, Action.VIEW)
