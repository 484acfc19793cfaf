"""The console's tariff page: tariffs of the user's tenant(s), and the price import.

It lives with the tariffs app (the console includes its URLs); it reads through
`restrict()` like every console view: viewing needs the VIEW scope, importing the
CHANGE scope on the series' tenant (platform admins everywhere, DSO staff at home).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.console.views import staff_required
from apps.core.permissions import Action
from apps.tariffs.forms import PriceImportForm
from apps.tariffs.importers import ImportFailed, import_prices
from apps.tariffs.models import PriceSeries
from apps.tariffs.selectors import tariff_list as select_tariffs


def _importable_codes(user: Any) -> list[str]:
    return list(PriceSeries.objects.restrict(user, Action.CHANGE).values_list("code", flat=True))


def _page(
    request: HttpRequest, form: PriceImportForm | None = None, status: int = 200
) -> HttpResponse:
    codes = _importable_codes(request.user)
    if form is None and codes:
        form = PriceImportForm(series_codes=codes)
    context = {
        "tariffs": select_tariffs(user=request.user),
        "series": PriceSeries.objects.restrict(request.user, Action.VIEW).select_related("tenant"),
        "import_form": form,
    }
    return render(request, "console/tariffs/list.html", context, status=status)


@staff_required
def tariff_list(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _series_for_import(request: HttpRequest) -> PriceSeries:
    """404 for a series the user cannot see; 403 for one they see but may not change."""
    code = request.POST.get("series", "")
    visible = PriceSeries.objects.restrict(request.user, Action.VIEW)
    series = visible.filter(code=code).first()
    if series is None:
        if not _importable_codes(request.user):
            raise PermissionDenied
        raise Http404
    if not PriceSeries.objects.restrict(request.user, Action.CHANGE).filter(pk=series.pk).exists():
        raise PermissionDenied
    return series


@staff_required
@require_POST
def price_import(request: HttpRequest) -> HttpResponse:
    series = _series_for_import(request)
    form = PriceImportForm(request.POST, request.FILES, series_codes=[series.code])
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        result = import_prices(
            series_code=series.code,
            file=form.cleaned_data["file"],
            format=form.cleaned_data["format"],
        )
    except ImportFailed as error:
        form.add_error("file", _("%(error)s Nothing was imported.") % {"error": error})
        return _page(request, form, status=400)
    messages.success(
        request,
        _("Imported %(count)d %(unit)s into %(series)s (%(first)s to %(last)s).")
        % {
            "count": result.count,
            "unit": _("days") if result.unit == "days" else _("price points"),
            "series": result.series_code,
            "first": result.first,
            "last": result.last,
        },
    )
    return redirect("console:tariffs")
