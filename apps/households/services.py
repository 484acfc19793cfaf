"""Writes on households: membership, invitations and installer assignments.

Each service checks the acting user's scope with `restrict()` itself, so a view
cannot forget to; a refusal raises PermissionDenied (403) for a visible household.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from apps.core.permissions import (
    INSTALLER_PERMS,
    MEMBER_PERMS,
    OWNER_PERMS,
    Action,
    Perm,
    Role,
)
from apps.households.models import (
    Household,
    InstallerAssignment,
    Invitation,
    Membership,
    MembershipRole,
    hash_token,
)


def _require(user: Any, action: Action, household: Household) -> None:
    if not Household.objects.restrict(user, action).filter(pk=household.pk).exists():
        raise PermissionDenied(_("You may not do this for this household."))


def _grant(user: Any, household: Household, perms: tuple[Perm, ...]) -> None:
    for perm in perms:
        assign_perm(f"households.{perm}", user, household)


def _revoke(user: Any, household: Household, perms: tuple[Perm, ...]) -> None:
    for perm in perms:
        remove_perm(f"households.{perm}", user, household)


def _member_perms(can_control: bool) -> tuple[Perm, ...]:
    return (*MEMBER_PERMS, Perm.CONTROL_DEVICES) if can_control else MEMBER_PERMS


@transaction.atomic
def household_add_owner(*, household: Household, user: Any) -> Membership:
    if user.role != Role.HOUSEHOLD_OWNER or user.tenant_id != household.tenant_id:
        raise ValidationError(_("An owner must be a household owner of the same tenant."))
    membership, _created = Membership.objects.update_or_create(
        household=household, user=user, defaults={"role": MembershipRole.OWNER, "can_control": True}
    )
    _grant(user, household, OWNER_PERMS)
    return membership


@transaction.atomic
def member_add(*, household: Household, user: Any, can_control: bool = False) -> Membership:
    """Make `user` a member. Used when an invitation is accepted and by the demo seeder."""
    if user.role != Role.HOUSEHOLD_MEMBER or user.tenant_id != household.tenant_id:
        raise ValidationError(_("A member must be a household member of the same tenant."))
    membership, _created = Membership.objects.update_or_create(
        household=household,
        user=user,
        defaults={"role": MembershipRole.MEMBER, "can_control": can_control},
    )
    _revoke(user, household, (Perm.CONTROL_DEVICES,))
    _grant(user, household, _member_perms(can_control))
    return membership


def member_invite(
    *, household: Household, invited_by: Any, email: str, can_control: bool = False
) -> tuple[Invitation, str]:
    """Invite someone by email; returns the invitation and the one-time token to send."""
    _require(invited_by, Action.MANAGE_MEMBERS, household)
    if Membership.objects.filter(household=household, user__email__iexact=email).exists():
        raise ValidationError({"email": _("This person is already a member.")})
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        household=household,
        email=email,
        can_control=can_control,
        token_hash=hash_token(token),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    transaction.on_commit(lambda: _send_invitation(invitation, token))
    return invitation, token


def _send_invitation(invitation: Invitation, token: str) -> None:
    link = f"/invitations/{token}/"
    send_mail(
        subject=_("You are invited to %(household)s") % {"household": invitation.household.name},
        message=_("Open %(link)s within %(days)d days to join.")
        % {"link": link, "days": settings.INVITATION_VALID_DAYS},
        from_email=None,
        recipient_list=[invitation.email],
    )


def invitation_get_pending(*, token: str) -> Invitation | None:
    return (
        Invitation.objects.pending()
        .select_related("household__tenant")
        .filter(token_hash=hash_token(token))
        .first()
    )


@transaction.atomic
def invitation_accept(*, token: str, user: Any) -> Membership:
    invitation = invitation_get_pending(token=token)
    if invitation is None:
        raise ValidationError(_("This invitation is invalid, expired or already used."))
    membership = member_add(
        household=invitation.household, user=user, can_control=invitation.can_control
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership


@transaction.atomic
def member_remove(*, household: Household, user: Any, removed_by: Any) -> None:
    """Owners remove members; anyone may leave. The last owner cannot leave."""
    if user.pk != removed_by.pk:
        _require(removed_by, Action.MANAGE_MEMBERS, household)
    membership = Membership.objects.filter(household=household, user=user).first()
    if membership is None:
        raise ValidationError(_("This person is not a member of the household."))
    if membership.role == MembershipRole.OWNER:
        owners = Membership.objects.filter(household=household, role=MembershipRole.OWNER)
        if owners.count() == 1:
            raise ValidationError(_("The last owner cannot be removed."))
    membership.delete()
    _revoke(user, household, (*OWNER_PERMS, Perm.INSTALL_EQUIPMENT))


@transaction.atomic
def installer_assign(
    *, household: Household, installer: Any, assigned_by: Any, days: int | None = None
) -> InstallerAssignment:
    _require(assigned_by, Action.ASSIGN_INSTALLER, household)
    if installer.role != Role.INSTALLER or installer.tenant_id != household.tenant_id:
        raise ValidationError({"installer": _("Choose an installer of this household's tenant.")})
    days = days if days is not None else settings.INSTALLER_ASSIGNMENT_DAYS
    if not 1 <= days <= 365:
        raise ValidationError({"days": _("An assignment lasts from 1 to 365 days.")})
    now = timezone.now()
    assignment = InstallerAssignment.objects.create(
        household=household,
        installer=installer,
        assigned_by=assigned_by,
        starts_at=now,
        expires_at=now + timedelta(days=days),
    )
    _grant(installer, household, INSTALLER_PERMS)
    return assignment


@transaction.atomic
def installer_unassign(*, assignment: InstallerAssignment, revoked_by: Any) -> None:
    _require(revoked_by, Action.ASSIGN_INSTALLER, assignment.household)
    assignment.revoked_at = timezone.now()
    assignment.save(update_fields=["revoked_at"])
    _drop_grants_if_no_live_assignment(assignment)


def _drop_grants_if_no_live_assignment(assignment: InstallerAssignment) -> None:
    still_live = InstallerAssignment.objects.live().filter(
        household=assignment.household, installer=assignment.installer
    )
    if not still_live.exists():
        _revoke(assignment.installer, assignment.household, INSTALLER_PERMS)
    assignment.grants_removed_at = timezone.now()
    assignment.save(update_fields=["grants_removed_at"])


def installer_assignments_expire() -> int:
    """Remove the permission rows of lapsed assignments. Idempotent; returns how many."""
    lapsed = InstallerAssignment.objects.lapsed().filter(grants_removed_at__isnull=True)
    count = 0
    for assignment in lapsed.select_related("household", "installer"):
        with transaction.atomic():
            _drop_grants_if_no_live_assignment(assignment)
        count += 1
    return count
