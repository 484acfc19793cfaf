"""The "Your data" page: the owner downloads a copy of the household's data or erases it.

Only the owner (or a platform admin, on the household's request) reaches it; for anyone
else the household does not exist (404). Both actions are POSTs: a prefetched link never
writes an audit record or starts an erasure.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.households.models import Household
from apps.privacy import erasure, gdpr
from apps.privacy.export import household_export, zip_download
from apps.privacy.models import DataRightsRecord

TEMPLATE = "portal/privacy_data.html"


class ErasureForm(forms.Form):
    confirm = forms.CharField(
        label=gettext_lazy("Type the household's name to confirm"), max_length=200
    )

    def __init__(self, *args: Any, household: Household, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.household = household

    def clean_confirm(self) -> str:
        typed = str(self.cleaned_data["confirm"])
        if not erasure.confirmation_matches(self.household, typed):
            raise ValidationError(_("This is not the household's name: nothing was erased."))
        return typed


def _rights_household(request: HttpRequest, household_id: Any) -> Household:
    try:
        return gdpr.rights_household(user=request.user, household_id=household_id)
    except Household.DoesNotExist as error:
        raise Http404(_("No such household.")) from error


def _page(
    request: HttpRequest, household: Household, form: ErasureForm, status: int = 200
) -> HttpResponse:
    context = {
        "household": household,
        "form": form,
        "records": DataRightsRecord.objects.filter(household_id=household.pk)[:20],
        "exported_tables": sorted(
            str(link.model._meta.verbose_name_plural) for link in gdpr.exported_links()
        ),
    }
    return render(request, TEMPLATE, context, status=status)


@login_required
def privacy_data(request: HttpRequest, household_id: Any) -> HttpResponse:
    household = _rights_household(request, household_id)
    return _page(request, household, ErasureForm(household=household))


@login_required
@require_POST
def privacy_data_export(request: HttpRequest, household_id: Any) -> HttpResponseBase:
    household = _rights_household(request, household_id)
    export = household_export(user=request.user, household_id=household.pk)
    return zip_download(export, request)


@login_required
@require_POST
def privacy_data_erase(request: HttpRequest, household_id: Any) -> HttpResponse:
    household = _rights_household(request, household_id)
    form = ErasureForm(request.POST, household=household)
    if not form.is_valid():
        return _page(request, household, form, status=400)
    record = erasure.household_erase(
        user=request.user, household_id=household.pk, confirmation=form.cleaned_data["confirm"]
    )
    user: Any = request.user
    user.refresh_from_db()
    if not user.is_active:  # the owner's own account went with the household
        logout(request)
    return render(request, TEMPLATE, {"erased": record})
