"""Validation of meter point identifiers per country.

- UK MPAN core: 13 digits, the last a check digit (prime-weighted sum mod 11 mod 10).
- FR PRM (Point Référence Mesure, Linky): 14 digits, no public check digit.
- BE EAN (GSRN-style, 18 digits): GS1 check digit, GS1 prefix 54 (Belgium/Luxembourg).

The GS1 check digit comes from python-stdnum; no maintained library knows the MPAN
check digit, so it is written here.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import ean

_MPAN_PRIMES = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)


def mpan_check_digit(first_twelve: str) -> int:
    total = sum(int(d) * p for d, p in zip(first_twelve, _MPAN_PRIMES, strict=True))
    return total % 11 % 10


def normalise_meter_point_id(value: str) -> str:
    return "".join(value.split())


def validate_meter_point_id(country: str, value: str) -> str:
    """Return the normalised id, or raise ValidationError naming what is wrong."""
    mp = normalise_meter_point_id(value)
    if not mp.isdigit():
        raise ValidationError(_("A meter point id has digits only."), code="digits")
    if country == "GB":
        if len(mp) != 13:
            raise ValidationError(_("A UK MPAN core has 13 digits."), code="length")
        if mpan_check_digit(mp[:12]) != int(mp[12]):
            raise ValidationError(_("This MPAN's check digit is wrong."), code="check_digit")
    elif country == "FR":
        if len(mp) != 14:
            raise ValidationError(_("A French PRM has 14 digits."), code="length")
    elif country == "BE":
        if len(mp) != 18:
            raise ValidationError(_("A Belgian EAN has 18 digits."), code="length")
        if not mp.startswith("54"):
            raise ValidationError(_("A Belgian EAN starts with 54."), code="prefix")
        if ean.calc_check_digit(mp[:17]) != mp[17]:
            raise ValidationError(_("This EAN's check digit is wrong."), code="check_digit")
    else:
        raise ValidationError(
            _("No meter point rules for country %(country)s.") % {"country": country},
            code="country",
        )
    return mp


def with_check_digit(country: str, body: str) -> str:
    """Complete a meter point id body with its check digit (demo data and tests)."""
    if country == "GB":
        return body + str(mpan_check_digit(body))
    if country == "BE":
        return body + ean.calc_check_digit(body)
    return body
