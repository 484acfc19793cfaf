"""Importing prices and Tempo calendars: real files, bad files, upserts, the command."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apps.tariffs.importers import ImportFailed, import_prices
from apps.tariffs.models import PricePoint, PriceSeries, TempoDay
from apps.tenants.models import Tenant
from tests.tariffs.conftest import realdata, utc

D = Decimal
REPO = Path(__file__).resolve().parents[2]
MIXED = "entsoe_A44_BE_2024-10-06_to_10-08_A03_mixed_resolution__hass-entso-e.xml"
HOURLY = "entsoe_A44_BE_2024-10-08_PT60M__hass-entso-e.xml"
AGILE = "octopus_agile_unit_rates_2020-05-23_negative__TeslaMateAgile.json"
TEMPO_CSV = "fr_edf_tempo_calendar_2019-09-01_to_2025-09-29__Gladys.csv"
TEMPO_JSON = "rte_tempo_like_calendars_response_2023-02-28__ESP32_RTE_Tempo_LCD_README.json"


def price(series: str, at: dt.datetime) -> Decimal:
    return PricePoint.objects.get(series__code=series, start=at).price_per_kwh


def points(series: str = "be-da") -> int:
    return PricePoint.objects.filter(series__code=series).count()


# Real files -----------------------------------------------------------------------------


def test_entsoe_mixed_resolution_with_the_a03_rule(be: Tenant) -> None:
    result = import_prices(series_code="be-da", file=realdata(MIXED), format="entsoe")
    # Two days of 96 quarter hours, then one day of 24 hours.
    assert (result.count, points()) == (216, 216)
    assert price("be-da", utc(2024, 10, 5, 22, 0)) == D("0.05535")  # the first price
    # A03: positions 2-4 repeat position 1.
    assert price("be-da", utc(2024, 10, 5, 22, 45)) == D("0.05535")
    # Position 57 is absent: positions 53 to 60 keep the negative price of 53.
    assert price("be-da", utc(2024, 10, 6, 11, 0)) == D("-0.00001")
    assert price("be-da", utc(2024, 10, 6, 12, 45)) == D("-0.00001")
    assert price("be-da", utc(2024, 10, 6, 13, 0)) == D("0.0002")  # position 61
    hourly = PricePoint.objects.get(series__code="be-da", start=utc(2024, 10, 7, 22))
    assert (hourly.end, hourly.price_per_kwh) == (utc(2024, 10, 7, 23), D("0.06498"))


def test_entsoe_reimport_replaces_the_overlapped_day(be: Tenant) -> None:
    import_prices(series_code="be-da", file=realdata(MIXED), format="entsoe")
    result = import_prices(series_code="be-da", file=realdata(HOURLY), format="entsoe")
    assert result.count == 24
    assert points() == 216  # the hourly day was replaced, not duplicated
    assert price("be-da", utc(2024, 10, 7, 22)) == D("0.06498")
    again = import_prices(series_code="be-da", file=realdata(MIXED), format="entsoe")
    assert (again.count, points()) == (216, 216)


def test_octopus_agile_negative_prices_excluding_vat(uk: Tenant) -> None:
    result = import_prices(series_code="gb-agile", file=realdata(AGILE), format="octopus")
    assert result.count == 11
    assert price("gb-agile", utc(2020, 5, 23, 4, 0)) == D("-0.084")  # -8.82p inc VAT / 1.05
    assert price("gb-agile", utc(2020, 5, 23, 5, 0)) == D("-0.0554")
    assert price("gb-agile", utc(2020, 5, 23, 0, 0)) == D(0)


def test_octopus_inc_vat_only_is_divided_by_1_05(uk: Tenant) -> None:
    body = b'{"results": [{"value_inc_vat": 21.0, "valid_from": "2024-01-01T00:00:00Z",'
    body += b' "valid_to": "2024-01-01T00:30:00Z"}]}'
    import_prices(series_code="gb-agile", file=body, format="octopus")
    assert price("gb-agile", utc(2024, 1, 1)) == D("0.2")


def test_tempo_calendar_csv(fr: Tenant) -> None:
    result = import_prices(series_code="fr-tempo", file=realdata(TEMPO_CSV), format="tempo")
    assert (result.count, result.unit) == (2221, "days")
    assert TempoDay.objects.filter(colour="RED").count() == 128
    assert TempoDay.objects.get(date=dt.date(2019, 9, 1)).colour == "BLUE"
    again = import_prices(series_code="fr-tempo", file=realdata(TEMPO_CSV), format="tempo")
    assert again.count == 2221 and TempoDay.objects.count() == 2221


def test_tempo_calendar_rte_json(fr: Tenant) -> None:
    result = import_prices(series_code="fr-tempo", file=realdata(TEMPO_JSON), format="tempo")
    assert result.count == 3
    colours = dict(TempoDay.objects.values_list("date", "colour"))
    assert colours == {
        dt.date(2023, 2, 28): "WHITE",
        dt.date(2023, 3, 1): "RED",
        dt.date(2023, 3, 2): "RED",
    }


def test_tempo_reimport_updates_a_colour(fr: Tenant) -> None:
    import_prices(series_code="fr-tempo", file=b"date,day_type\n2026-01-15,blue\n", format="tempo")
    import_prices(series_code="fr-tempo", file=b"date,day_type\n2026-01-15,ROUGE\n", format="tempo")
    assert list(TempoDay.objects.values_list("colour", flat=True)) == ["RED"]


# CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "start,end,price_per_kwh\n2026-01-15T10:00:00+01:00,2026-01-15T10:15:00+01:00,0.1\n",
        "start,price_per_mwh\n2026-01-15T09:00:00Z,100\n",  # end from the resolution
        "Start,Price,Unit\n2026-01-15T09:00:00Z,100,EUR/MWh\n",
        "start;end;price_per_kwh\n2026-01-15T09:00Z;2026-01-15T09:15Z;0,1\n",  # decimal comma
    ],
)
def test_csv_headers(be: Tenant, body: str) -> None:
    import_prices(series_code="be-da", file=body.encode(), format="csv")
    point = PricePoint.objects.get()
    assert (point.start, point.end, point.price_per_kwh) == (
        utc(2026, 1, 15, 9),
        utc(2026, 1, 15, 9, 15),  # be-da has a 15-minute resolution
        D("0.1"),
    )


def test_csv_reimport_updates(be: Tenant) -> None:
    body = "start,price_per_kwh\n2026-01-15T09:00Z,0.1\n2026-01-15T09:15Z,0.2\n"
    import_prices(series_code="be-da", file=body.encode(), format="csv")
    import_prices(series_code="be-da", file=body.replace("0.2", "0.3").encode(), format="csv")
    assert list(PricePoint.objects.values_list("price_per_kwh", flat=True)) == [D("0.1"), D("0.3")]


GOOD = "start,price_per_kwh\n2026-01-15T09:00Z,0.1\n2026-01-15T09:15Z,0.2\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("when,price_per_kwh\n2026-01-15T09:00Z,0.1\n", r"line 1: .*'start'"),
        ("start,cost\n2026-01-15T09:00Z,0.1\n", r"line 1: the header needs"),
        (GOOD + "2026-01-15T09:30Z,0.1\n2026-01-15T09:45Z,abc\n", r"line 5: price 'abc'"),
        (GOOD + "2026-01-15 09:30,0.1\n", r"line 4: start .* has no UTC offset"),
        (GOOD + "yesterday,0.1\n", r"line 4: start 'yesterday' is not an ISO 8601 time"),
        (GOOD + "2026-01-15T09:15Z,0.3\n", r"line 4: overlaps line 3"),
        (GOOD + "2026-01-15T09:40Z,0.3\n", r"line 4: .*quarter hour"),
        (GOOD + "2026-01-15T09:30Z\n", r"line 4: 1 columns where the header has 2"),
        ("start,price,unit\n2026-01-15T09:00Z,1,GJ\n", r"line 2: unit 'GJ'"),
        ("start,price_per_kwh\n", r"no prices"),
    ],
)
def test_bad_csv_names_the_line_and_writes_nothing(be: Tenant, body: str, message: str) -> None:
    import_prices(series_code="be-da", file=b"start,price_per_kwh\n2026-01-15T09:00Z,9\n",
                  format="csv")  # fmt: skip
    with pytest.raises(ImportFailed, match=message):
        import_prices(series_code="be-da", file=body.encode(), format="csv")
    assert list(PricePoint.objects.values_list("price_per_kwh", flat=True)) == [D(9)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("date,day_type\n2026-01-15,blue\n2026-01-16,purple\n", r"line 3: unknown Tempo colour"),
        ("date,day_type\n2026-01-15,blue\n2026-01-15,red\n", r"line 3: .*already given on line 2"),
        ("date,day_type\n15/01/2026,blue\n", r"line 2: date '15/01/2026' is not a date"),
        ("day,colour\n2026-01-15,blue\n", r"line 1: the header must be"),
        ('{"tempo_like_calendars": {"values": [{"start_date": "2026-01-15", "value": "X"}]}}',
         r"values\[0\]: unknown Tempo colour 'X'"),
    ],
)  # fmt: skip
def test_bad_tempo_calendar(fr: Tenant, body: str, message: str) -> None:
    with pytest.raises(ImportFailed, match=message):
        import_prices(series_code="fr-tempo", file=body.encode(), format="tempo")
    assert TempoDay.objects.count() == 0


def test_series_and_format_must_fit(be: Tenant, fr: Tenant) -> None:
    with pytest.raises(ImportFailed, match="No price series 'nope'"):
        import_prices(series_code="nope", file=b"", format="csv")
    with pytest.raises(ImportFailed, match="does not fit"):
        import_prices(series_code="fr-tempo", file=b"", format="csv")
    with pytest.raises(ImportFailed, match="GBP"):
        import_prices(series_code="be-da", file=b"{}", format="octopus")


# ENTSO-E --------------------------------------------------------------------------------


def entsoe(points: str, curve: str = "A03", currency: str = "EUR", doctype: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>{doctype}
<Publication_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3">
  <TimeSeries>
    <currency_Unit.name>{currency}</currency_Unit.name>
    <price_Measure_Unit.name>MWH</price_Measure_Unit.name>
    <curveType>{curve}</curveType>
    <Period>
      <timeInterval><start>2026-01-14T23:00Z</start><end>2026-01-15T03:00Z</end></timeInterval>
      <resolution>PT60M</resolution>
      {points}
    </Period>
  </TimeSeries>
</Publication_MarketDocument>""".encode()


def point(position: int, amount: str) -> str:
    return f"<Point><position>{position}</position><price.amount>{amount}</price.amount></Point>"


def test_a03_repeats_to_the_end_of_the_period(be: Tenant) -> None:
    import_prices(
        series_code="be-da", file=entsoe(point(1, "10") + point(3, "-5")), format="entsoe"
    )
    prices = list(PricePoint.objects.values_list("price_per_kwh", flat=True))
    assert prices == [D("0.01"), D("0.01"), D("-0.005"), D("-0.005")]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (entsoe(point(1, "10") + point(2, "x")), r"TimeSeries 1, Period 1, position 2: price"),
        (entsoe(point(2, "10")), r"TimeSeries 1, Period 1, position 1: no Point"),
        (entsoe(point(1, "10") + point(3, "1"), curve="A01"), r"position 2: no Point"),
        (entsoe(point(1, "1") + point(1, "2")), r"position 1: duplicate Point position"),
        (entsoe(point(9, "1")), r"Period 1: Point position '9' is outside 1..4"),
        (entsoe(point(1, "1"), currency="GBP"), r"TimeSeries 1: prices in GBP"),
        (b"<Publication_MarketDocument><TimeSeries>", r"Not well-formed XML at line 1"),
        (
            entsoe(point(1, "&x;"), doctype='<!DOCTYPE d [<!ENTITY x "1">]>'),
            r"DOCTYPE or entity",
        ),
        (
            b"<Acknowledgement_MarketDocument><Reason><text>No matching data found</text>"
            b"</Reason></Acknowledgement_MarketDocument>",
            r"not a Publication_MarketDocument \(No matching data found\)",
        ),
    ],
)
def test_bad_entsoe_names_the_element_and_writes_nothing(
    be: Tenant, document: bytes, message: str
) -> None:
    with pytest.raises(ImportFailed, match=message):
        import_prices(series_code="be-da", file=document, format="entsoe")
    assert points() == 0


# The command ----------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    """The command's exit status, stdout and stderr.

    A CommandError is what `manage.py` turns into its exit status (run_from_argv would
    also close the test's database connection, hence call_command).
    """
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_prices", *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), str(error)
    return 0, out.getvalue(), err.getvalue()


def test_command_imports(be: Tenant) -> None:
    status, out, _err = run("--series", "be-da", "--format", "entsoe", str(realdata(MIXED)))
    assert status == 0
    assert "Imported 216 points into be-da" in out


def test_command_fails_with_exit_code_1(be: Tenant, tmp_path: Any) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "2026-01-15T09:30Z,lots\n")
    status, _out, err = run("--series", "be-da", "--format", "csv", str(bad))
    assert status == 1
    assert "line 4: price 'lots' is not a number" in err and "Nothing was imported" in err
    assert points() == 0
    assert run("--series", "be-da", "--format", "csv", str(tmp_path / "missing.csv"))[0] == 1


def test_command_line_exit_status(tmp_path: Any) -> None:
    """Through manage.py itself: no database is touched before the file is read."""
    args = ["import_prices", "--series", "x", "--format", "csv", str(tmp_path / "missing.csv")]
    completed = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 1
    assert "no such file" in completed.stderr


def test_series_are_per_tenant(be: Tenant) -> None:
    assert PriceSeries.objects.get(code="be-da").tenant == be
