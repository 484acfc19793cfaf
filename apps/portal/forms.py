from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User


class InviteMemberForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"placeholder": _("Email of the person")})
    )
    can_control = forms.BooleanField(label=_("May control devices"), required=False)


class AcceptInvitationSignupForm(UserCreationForm):
    """A new member's account; role and tenant are set by the invitation, never by the form."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name"]
