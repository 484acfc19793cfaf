import pytest
from django.core.exceptions import ValidationError

from apps.core.meter_points import mpan_check_digit, validate_meter_point_id, with_check_digit


def test_mpan_check_digit_is_the_prime_weighted_sum() -> None:
    # 1*3 + 2*5 + 0*7 + 0*13 + 0*17 + 1*19 + 2*23 + 3*29 + 4*31 + 5*37 + 6*41 + 7*43 = 1021
    assert mpan_check_digit("120001234567") == 1021 % 11 % 10 == 9


def test_the_n3rgy_sandbox_mpan_has_no_valid_check_digit() -> None:
    # The sandbox's "1200012345678" is a placeholder: a real MPAN core ends in 9 here.
    with pytest.raises(ValidationError) as error:
        validate_meter_point_id("GB", "1200012345678")
    assert error.value.code == "check_digit"
    assert validate_meter_point_id("GB", "12 0001 2345 679") == "1200012345679"


@pytest.mark.parametrize(
    ("country", "value", "code"),
    [
        ("GB", "12000123456", "length"),
        ("GB", "12000123456AB", "digits"),
        ("FR", "0736179447993", "length"),
        ("BE", "541449940000000000", "check_digit"),
        ("BE", "641449940000000000", "prefix"),
        ("BE", "5414499400000000", "length"),
        ("DE", "123", "country"),
    ],
)
def test_bad_meter_point_ids_are_refused_with_a_reason(country: str, value: str, code: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_meter_point_id(country, value)
    assert error.value.code == code


def test_real_linky_prm_and_generated_ids_are_valid() -> None:
    # PRM of the Linky standard-mode capture in shared/realdata (teleinfo-nom).
    assert validate_meter_point_id("FR", "07361794479930") == "07361794479930"
    be = with_check_digit("BE", "54144994000000000")
    assert be == "541449940000000002"
    assert validate_meter_point_id("BE", be) == be
    gb = with_check_digit("GB", "190000000001")
    assert validate_meter_point_id("GB", gb) == gb


def test_every_wrong_check_digit_is_caught() -> None:
    good = with_check_digit("BE", "54144994000001234")
    for digit in "0123456789":
        candidate = good[:-1] + digit
        if candidate != good:
            with pytest.raises(ValidationError):
                validate_meter_point_id("BE", candidate)
