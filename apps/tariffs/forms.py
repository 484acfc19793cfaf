from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

FORMAT_CHOICES = [
    ("csv", _("CSV (start, end, price)")),
    ("entsoe", _("ENTSO-E day-ahead XML (A44)")),
    ("octopus", _("Octopus unit rates JSON")),
    ("tempo", _("Tempo colour calendar (CSV or RTE JSON)")),
]


class PriceImportForm(forms.Form):
    series = forms.ChoiceField(label=_("Price series"))
    format = forms.ChoiceField(label=_("Format"), choices=FORMAT_CHOICES)
    file = forms.FileField(label=_("File"))

    def __init__(self, *args: Any, series_codes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        series_field: Any = self.fields["series"]
        series_field.choices = [(code, code) for code in series_codes]
