from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from apps.core.meter_points import validate_meter_point_id
from apps.core.models import UUIDModel
from apps.core.permissions import PERM_FOR_ACTION, Action, Role, Scope, scope_for
from gateway_agent.tripmodel import NOMINAL_VOLTAGE_V, SupplyLimit, fuse_limit, linky_limit


class HouseholdQuerySet(models.QuerySet["Household"]):
    def restrict(self, user: Any, action: Action) -> HouseholdQuerySet:
        """The households `user` may `action`; empty for anyone without a scope (fail closed)."""
        scope = scope_for(user, action)
        if scope is Scope.ALL:
            return self
        if scope is Scope.NONE:
            return self.none()
        in_tenant = self.filter(tenant_id=user.tenant_id)
        if scope is Scope.TENANT:
            return in_tenant
        return in_tenant.filter(pk__in=granted_household_ids(user, action))


def granted_household_ids(user: Any, action: Action) -> models.QuerySet[Any]:
    """Households where `user` holds the guardian grant for `action` (a subquery).

    Read straight from guardian's direct foreign-key table rather than through
    get_objects_for_user, which nests two subqueries, casts the key and looks up
    the content type on every call. Grants are per user, never per group (roles
    are not groups). Installer grants also need a live assignment, so an expired
    grant fails at once, before the periodic task removes the permission rows.
    """
    grants = HouseholdUserPermission.objects.filter(
        user=user.pk, permission__codename=PERM_FOR_ACTION[action]
    )
    if user.role == Role.INSTALLER:
        live = InstallerAssignment.objects.live().filter(installer=user.pk)
        grants = grants.filter(content_object__in=live.values("household_id"))
    return grants.values("content_object_id")


class HeatingType(models.TextChoices):
    GAS = "gas", _("Gas boiler")
    HEAT_PUMP = "heat_pump", _("Heat pump")
    ELECTRIC = "electric", _("Electric resistive")
    OIL = "oil", _("Oil")
    DISTRICT = "district", _("District heating")
    OTHER = "other", _("Other")


class Household(UUIDModel):
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="households"
    )
    name = models.CharField(_("name"), max_length=120)
    address = models.CharField(_("address"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=12)
    city = models.CharField(_("city"), max_length=80)
    timezone = models.CharField(_("time zone"), max_length=64)
    meter_point_id = models.CharField(
        _("meter point id"), max_length=18, unique=True,
        help_text=_("UK MPAN core, French PRM or Belgian EAN."),
    )  # fmt: skip
    contracted_power_kva = models.DecimalField(
        _("contracted power (kVA)"), max_digits=5, decimal_places=1
    )
    main_fuse_a = models.PositiveSmallIntegerField(
        _("main fuse (A)"), null=True, blank=True,
        help_text=_("UK cut-out fuse or Belgian main breaker rating. Empty for a Linky: "
                    "its subscribed power is the limit."),
    )  # fmt: skip
    phases = models.PositiveSmallIntegerField(
        _("phases"), choices=[(1, _("Single phase")), (3, _("Three phase"))], default=1
    )
    household_size = models.PositiveSmallIntegerField(_("people"), default=2)
    heating_type = models.CharField(
        _("heating"), max_length=16, choices=HeatingType.choices, default=HeatingType.GAS
    )

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [
            ("manage_members", "Can invite and remove household members"),
            ("view_consumption", "Can view the household's consumption"),
            ("control_devices", "Can control the household's devices"),
            ("install_equipment", "Can install and commission gateways and devices"),
        ]

    def __str__(self) -> str:
        return self.name

    def supply_limit(self) -> SupplyLimit:
        """The supply's limit and breaker curve: a Linky cuts at the subscribed kVA; in the
        UK and Belgium the main fuse or breaker trips on current (its rating, or the
        contracted kVA turned into amps where the rating is not recorded)."""
        kva = float(self.contracted_power_kva)
        if self.main_fuse_a:
            return fuse_limit(self.main_fuse_a, self.phases)
        if self.tenant.country == "FR":
            return linky_limit(kva)
        return fuse_limit(kva * 1000 / NOMINAL_VOLTAGE_V / self.phases, self.phases)

    def clean(self) -> None:
        if self.tenant_id and self.meter_point_id:
            try:
                self.meter_point_id = validate_meter_point_id(
                    self.tenant.country, self.meter_point_id
                )
            except ValidationError as error:
                raise ValidationError({"meter_point_id": error.messages}) from error
        if self.contracted_power_kva is not None and self.contracted_power_kva <= 0:
            raise ValidationError({"contracted_power_kva": _("Must be more than zero.")})


class HouseholdUserPermission(UserObjectPermissionBase):
    """guardian's direct foreign-key grant table for households.

    A real foreign key (not guardian's generic varchar object_pk) lets `restrict()`
    join on an indexed uuid column; `bench restrict` measures the difference.
    """

    content_object = models.ForeignKey("Household", on_delete=models.CASCADE)


class HouseholdGroupPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("Household", on_delete=models.CASCADE)


class MembershipRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    MEMBER = "member", _("Member")


class Membership(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=MembershipRole.choices)
    can_control = models.BooleanField(_("may control devices"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["household", "user"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.household} ({self.role})"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True).filter(
            expires_at__gt=timezone.now()
        )


class Invitation(UUIDModel):
    """An owner's invitation to join the household; only the token's hash is stored."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    can_control = models.BooleanField(default=False)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()


class InstallerAssignmentQuerySet(models.QuerySet["InstallerAssignment"]):
    def live(self) -> InstallerAssignmentQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, starts_at__lte=now, expires_at__gt=now)

    def lapsed(self) -> InstallerAssignmentQuerySet:
        return self.filter(Q(revoked_at__isnull=False) | Q(expires_at__lte=timezone.now()))


class InstallerAssignment(UUIDModel):
    """A tenant's staff lets an installer work on a household until `expires_at`."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="installer_assignments"
    )
    installer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="installer_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    grants_removed_at = models.DateTimeField(null=True, blank=True)

    objects = InstallerAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
