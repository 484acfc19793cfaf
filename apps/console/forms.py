from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.core.permissions import Role


class AssignInstallerForm(forms.Form):
    installer = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Installer"))
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=365, initial=14)

    def __init__(self, *args: Any, tenant_id: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        installer_field: Any = self.fields["installer"]
        installer_field.queryset = User.objects.filter(
            role=Role.INSTALLER, tenant_id=tenant_id, is_active=True
        ).order_by("username")


class GatewayClaimForm(forms.Form):
    """The serial and the claim code printed on the box's label."""

    serial = forms.CharField(
        label=_("Serial"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"placeholder": _("e.g. HEB-BE-00042"), "autocomplete": "off"}
        ),
    )
    claim_code = forms.CharField(
        label=_("Claim code"),
        max_length=32,
        widget=forms.TextInput(attrs={"placeholder": _("12 characters"), "autocomplete": "off"}),
    )


class PairingRequestForm(forms.Form):
    meter_id = forms.CharField(
        label=_("Meter equipment id"),
        max_length=64,
        required=False,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("meter id (optional)"),
                "aria-label": _("Meter equipment id"),
            }
        ),
    )


class PairingApproveForm(forms.Form):
    meter_id = forms.CharField(
        label=_("Meter equipment id"),
        max_length=64,
        error_messages={"required": _("Give the meter's equipment id.")},
        widget=forms.TextInput(attrs={"aria-label": _("Meter equipment id")}),
    )
