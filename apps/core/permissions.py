"""Roles, actions and the scope each role gets for each action.

This table is the single place that says who may do what; `restrict()` on every
tenant-owned manager reads it. Scopes:

- ALL:    every tenant (the telco's own staff).
- TENANT: every household of the user's tenant (structural scoping, no grant needed).
- GRANT:  only households where the user holds the django-guardian object permission
          named for the action (owners, members, assigned installers, consented
          third parties), and always within the user's tenant.
- NONE:   nothing. Also the answer for anonymous, inactive or role-less users (fail closed).

Roles mapped onto IEC 62351-8 role-based access control (the power-system RBAC standard):

| HEB role          | IEC 62351-8 role         | why                                               |
|-------------------|--------------------------|---------------------------------------------------|
| platform_admin    | SECADM (+ ENGINEER)      | manages users, roles, tenants and configuration   |
| telco_operator    | OPERATOR                 | runs the gateway fleet, sees no consumption       |
| dso_staff         | OPERATOR + VIEWER        | its own tenant's meters and households            |
| installer         | INSTALLER                | installs and commissions boxes where assigned     |
| household_owner   | VIEWER + OPERATOR (own)  | sees and controls their own home, grants access   |
| household_member  | VIEWER (own)             | read-only unless the owner grants control         |
| third_party       | VIEWER (consented data)  | nothing without the household's consent           |
| (audit, issue 8)  | SECAUD                   | reads the security and access logs                |
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PLATFORM_ADMIN = "platform_admin", _("Platform administrator")
    TELCO_OPERATOR = "telco_operator", _("Telco operator")
    DSO_STAFF = "dso_staff", _("DSO staff")
    INSTALLER = "installer", _("Installer")
    HOUSEHOLD_OWNER = "household_owner", _("Household owner")
    HOUSEHOLD_MEMBER = "household_member", _("Household member")
    THIRD_PARTY = "third_party", _("Third party")


STAFF_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.TELCO_OPERATOR, Role.DSO_STAFF, Role.INSTALLER})
TELCO_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.TELCO_OPERATOR})
HOUSEHOLD_ROLES = frozenset({Role.HOUSEHOLD_OWNER, Role.HOUSEHOLD_MEMBER})


class Action(StrEnum):
    VIEW = "view"
    CHANGE = "change"
    VIEW_MEMBERS = "view_members"
    MANAGE_MEMBERS = "manage_members"
    ASSIGN_INSTALLER = "assign_installer"
    INSTALL = "install"
    VIEW_CONSUMPTION = "view_consumption"
    CONTROL_DEVICES = "control_devices"
    APPROVE_PAIRING = "approve_pairing"  # let a gateway read a household's DSO meter
    MANAGE_GATEWAY_KEYS = "manage_gateway_keys"  # rotate and revoke gateway credentials


class Perm(StrEnum):
    """django-guardian object permission codenames on a household."""

    VIEW_HOUSEHOLD = "view_household"
    CHANGE_HOUSEHOLD = "change_household"
    MANAGE_MEMBERS = "manage_members"
    VIEW_CONSUMPTION = "view_consumption"
    CONTROL_DEVICES = "control_devices"
    INSTALL_EQUIPMENT = "install_equipment"


# The grant that GRANT-scoped roles must hold on the household for each action.
PERM_FOR_ACTION: dict[Action, Perm] = {
    Action.VIEW: Perm.VIEW_HOUSEHOLD,
    Action.CHANGE: Perm.CHANGE_HOUSEHOLD,
    Action.VIEW_MEMBERS: Perm.VIEW_HOUSEHOLD,
    Action.MANAGE_MEMBERS: Perm.MANAGE_MEMBERS,
    Action.ASSIGN_INSTALLER: Perm.CHANGE_HOUSEHOLD,
    Action.INSTALL: Perm.INSTALL_EQUIPMENT,
    Action.VIEW_CONSUMPTION: Perm.VIEW_CONSUMPTION,
    Action.CONTROL_DEVICES: Perm.CONTROL_DEVICES,
}

OWNER_PERMS = (
    Perm.VIEW_HOUSEHOLD,
    Perm.CHANGE_HOUSEHOLD,
    Perm.MANAGE_MEMBERS,
    Perm.VIEW_CONSUMPTION,
    Perm.CONTROL_DEVICES,
)
MEMBER_PERMS = (Perm.VIEW_HOUSEHOLD, Perm.VIEW_CONSUMPTION)
# Installers never get VIEW_CONSUMPTION: they commission boxes, not read history.
INSTALLER_PERMS = (Perm.VIEW_HOUSEHOLD, Perm.INSTALL_EQUIPMENT)


class Scope(StrEnum):
    ALL = "all"
    TENANT = "tenant"
    GRANT = "grant"
    NONE = "none"


A, T, G = Scope.ALL, Scope.TENANT, Scope.GRANT
R = Role

SCOPES: dict[Action, dict[Role, Scope]] = {
    Action.VIEW: {
        R.PLATFORM_ADMIN: A, R.TELCO_OPERATOR: A, R.DSO_STAFF: T, R.INSTALLER: G,
        R.HOUSEHOLD_OWNER: G, R.HOUSEHOLD_MEMBER: G, R.THIRD_PARTY: G,
    },
    Action.CHANGE: {R.PLATFORM_ADMIN: A, R.DSO_STAFF: T, R.HOUSEHOLD_OWNER: G},
    Action.VIEW_MEMBERS: {
        R.PLATFORM_ADMIN: A, R.DSO_STAFF: T, R.HOUSEHOLD_OWNER: G, R.HOUSEHOLD_MEMBER: G,
    },
    Action.MANAGE_MEMBERS: {R.PLATFORM_ADMIN: A, R.HOUSEHOLD_OWNER: G},
    Action.ASSIGN_INSTALLER: {R.PLATFORM_ADMIN: A, R.DSO_STAFF: T},
    Action.INSTALL: {R.PLATFORM_ADMIN: A, R.TELCO_OPERATOR: A, R.INSTALLER: G},
    # Consumption reads are further limited by the data-access policy (resolution, consent).
    Action.VIEW_CONSUMPTION: {
        R.DSO_STAFF: T, R.HOUSEHOLD_OWNER: G, R.HOUSEHOLD_MEMBER: G, R.THIRD_PARTY: G,
    },
    Action.CONTROL_DEVICES: {R.HOUSEHOLD_OWNER: G, R.HOUSEHOLD_MEMBER: G},
    # The meter belongs to the DSO: its staff (or the tenant's auto-approve policy) decide.
    Action.APPROVE_PAIRING: {R.PLATFORM_ADMIN: A, R.DSO_STAFF: T},
    Action.MANAGE_GATEWAY_KEYS: {R.PLATFORM_ADMIN: A, R.TELCO_OPERATOR: A, R.DSO_STAFF: T},
}  # fmt: skip


class _User(Protocol):
    is_authenticated: bool
    is_active: bool
    role: Any


def scope_for(user: _User | Any, action: Action) -> Scope:
    """The scope `user` has for `action`; NONE for anyone not fully identified."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return Scope.NONE
    role = getattr(user, "role", None)
    if role not in Role.values:
        return Scope.NONE
    return SCOPES[action].get(Role(role), Scope.NONE)


def is_staff_role(user: _User | Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role in STAFF_ROLES
