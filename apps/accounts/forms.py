from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

# Only a platform admin sets these, in the administration.
PRIVILEGED_USER_FIELDS = ("role", "tenant", "installer_company", "is_staff", "is_superuser")


def privileged_fields_in(data: Any) -> list[str]:
    return [name for name in PRIVILEGED_USER_FIELDS if name in (data or {})]


class RefusePrivilegedFieldsMixin:
    """A user form that refuses (rather than silently ignores) role or tenant fields."""

    data: Any

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        refused = privileged_fields_in(self.data)
        if refused:
            raise forms.ValidationError(
                _("Only a platform administrator may set: %(fields)s.")
                % {"fields": ", ".join(refused)},
                code="privileged",
            )
        return cleaned


class TotpCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].replace(" ", "")
        if not code.isdigit():
            raise forms.ValidationError(_("The code is made of digits only."))
        return code
