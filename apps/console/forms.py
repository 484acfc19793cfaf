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
