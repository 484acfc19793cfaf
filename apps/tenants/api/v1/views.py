from apps.core.api import RestrictedReadOnlyViewSet
from apps.tenants.api.v1.serializers import TenantOutputSerializer
from apps.tenants.models import Tenant


class TenantViewSet(RestrictedReadOnlyViewSet):
    """Tenants: the telco and its energy partners. Telco staff see all; others their own."""

    model = Tenant
    serializer_class = TenantOutputSerializer
