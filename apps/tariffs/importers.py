"""Import day-ahead prices and Tempo colour calendars: all or nothing.

Formats (`import_prices(format=...)`):

- ``csv``: a header line, then one price per line; comma- or semicolon-separated (with a
  semicolon, a decimal comma is accepted). Columns, in any order, case-insensitive:
  ``start`` (ISO 8601 with a UTC offset or ``Z``), optional ``end`` (else start plus the
  series' resolution), and the price as ``price_per_kwh`` or ``price_per_mwh``, or as
  ``price`` with a ``unit`` column (``kWh`` or ``MWh``, an ``EUR/`` prefix allowed).
  Prices exclude VAT, in the series' currency.
- ``entsoe``: an ENTSO-E A44 Publication_MarketDocument (day-ahead prices, EUR/MWh):
  each TimeSeries/Period with PT15M, PT30M or PT60M resolution. With curveType A03 a
  missing position repeats the previous price (to the end of the period); with A01
  every position must be present. A document with a DTD is refused (no entity tricks).
- ``octopus``: Octopus Energy unit rates JSON (``results[]`` with ``valid_from``,
  ``valid_to`` and pence per kWh). Stored EXCLUDING VAT: ``value_exc_vat`` when given,
  else ``value_inc_vat`` divided by 1.05 (the UK's 5 % domestic VAT). Negative prices
  are valid.
- ``tempo``: a Tempo colour calendar, CSV ``date,day_type`` (blue/white/red, or
  bleu/blanc/rouge) or RTE-like JSON (``tempo_like_calendars.values[]`` with
  ``start_date`` and ``value``).

A bad file raises ImportFailed naming the line (CSV), the element and position (XML) or
the JSON path, and what is wrong; nothing is written. Re-importing a range replaces the
points it overlaps (or the days it names), so it never duplicates.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import xml.etree.ElementTree as ET
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import Any
from xml.parsers import expat

from django.db import transaction
from django.utils.translation import gettext as _

from apps.tariffs.models import PricePoint, PriceSeries, SeriesKind, TempoColour, TempoDay

FORMATS = ("csv", "entsoe", "octopus", "tempo")
MAX_BYTES = 20 * 1024 * 1024
QUARTER = dt.timedelta(minutes=15)
UK_VAT = Decimal("1.05")
KWH_PER_MWH = Decimal(1000)
PENCE_PER_POUND = Decimal(100)
PLACES = Decimal("0.00000001")  # the 8 decimal places PricePoint keeps

COLOURS = {
    "blue": TempoColour.BLUE, "bleu": TempoColour.BLUE,
    "white": TempoColour.WHITE, "blanc": TempoColour.WHITE,
    "red": TempoColour.RED, "rouge": TempoColour.RED,
}  # fmt: skip


class ImportFailed(Exception):
    """The file is refused; the message says where and why. Nothing was written."""


@dataclass(frozen=True, slots=True)
class ParsedPoint:
    start: dt.datetime
    end: dt.datetime
    price_per_kwh: Decimal
    where: str  # "line 5", "TimeSeries 1, Period 2, position 57", "results[3]"


@dataclass(frozen=True, slots=True)
class ParsedDay:
    date: dt.date
    colour: str
    where: str


@dataclass(frozen=True)
class ImportResult:
    series_code: str
    count: int
    unit: str  # "points" or "days"
    first: Any
    last: Any


# Small parsers shared by the formats --------------------------------------------------


def _fail(where: str, problem: str) -> ImportFailed:
    return ImportFailed(f"{where}: {problem}")


def _decimal(text: Any, where: str, what: str, *, comma: bool = False) -> Decimal:
    raw = str(text).strip()
    if comma:
        raw = raw.replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise _fail(where, _("%(what)s %(value)r is not a number") % {"what": what, "value": raw})
    return value


def _instant(text: Any, where: str, what: str) -> dt.datetime:
    raw = str(text).strip()
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise _fail(
            where, _("%(what)s %(value)r is not an ISO 8601 time") % {"what": what, "value": raw}
        ) from None
    if value.tzinfo is None:
        raise _fail(where, _("%(what)s %(value)r has no UTC offset") % {"what": what, "value": raw})
    return value.astimezone(dt.UTC)


def _per_kwh(value: Decimal) -> Decimal:
    return value.quantize(PLACES)


def _read_bytes(file: Any) -> bytes:
    if isinstance(file, bytes):
        data = file
    elif isinstance(file, str | Path):
        data = Path(file).read_bytes()
    else:
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ImportFailed(_("The file is larger than 20 MB."))
    return data


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFailed(_("The file is not UTF-8 text (byte %d).") % error.start) from None


# CSV ----------------------------------------------------------------------------------


def _csv_rows(text: str) -> tuple[list[str], Iterable[tuple[int, list[str]]], bool]:
    """The lower-cased header, the numbered data rows, and whether decimals use a comma."""
    first_line = text.split("\n", 1)[0]
    semicolon = ";" in first_line and "," not in first_line
    reader = csv.reader(io.StringIO(text), delimiter=";" if semicolon else ",")
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise ImportFailed(_("line 1: the file is empty")) from None

    def rows() -> Iterable[tuple[int, list[str]]]:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield reader.line_num, row

    return header, rows(), semicolon


def _price_column(header: list[str]) -> tuple[str, Decimal | None]:
    """Which column holds the price, and its divisor to per kWh (None: a unit column)."""
    if "price_per_kwh" in header:
        return "price_per_kwh", Decimal(1)
    if "price_per_mwh" in header:
        return "price_per_mwh", KWH_PER_MWH
    if "price" in header and "unit" in header:
        return "price", None
    raise ImportFailed(
        _(
            "line 1: the header needs 'start' and a price column: 'price_per_kwh',"
            " 'price_per_mwh', or 'price' with 'unit' (found: %(found)s)"
        )
        % {"found": ",".join(header)}
    )


def _unit_divisor(text: str, where: str) -> Decimal:
    unit = text.strip().lower().rsplit("/", 1)[-1]
    if unit == "kwh":
        return Decimal(1)
    if unit == "mwh":
        return KWH_PER_MWH
    raise _fail(where, _("unit %(unit)r is neither kWh nor MWh") % {"unit": text.strip()})


def parse_csv(text: str, series: PriceSeries) -> list[ParsedPoint]:
    header, rows, comma = _csv_rows(text)
    if "start" not in header:
        _price_column(header)  # the header message lists what is needed
        raise ImportFailed(_("line 1: the header has no 'start' column"))
    price_name, divisor = _price_column(header)
    index = {name: i for i, name in enumerate(header)}
    length = dt.timedelta(minutes=series.resolution_minutes)
    points = []
    for line, row in rows:
        where = _("line %d") % line
        if len(row) != len(header):
            raise _fail(
                where,
                _("%(found)d columns where the header has %(expected)d")
                % {"found": len(row), "expected": len(header)},
            )
        start = _instant(row[index["start"]], where, "start")
        end = _instant(row[index["end"]], where, "end") if "end" in index else start + length
        price = _decimal(row[index[price_name]], where, _("price"), comma=comma)
        per = divisor if divisor is not None else _unit_divisor(row[index["unit"]], where)
        points.append(ParsedPoint(start, end, _per_kwh(price / per), where))
    return points


# ENTSO-E XML --------------------------------------------------------------------------


def _refuse_dtd(data: bytes) -> None:
    """A DTD could declare entities (billion laughs, external files): ENTSO-E never sends one."""

    def refuse(*_args: Any) -> None:
        raise ImportFailed(_("XML with a DOCTYPE or entity declarations is not accepted."))

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise ImportFailed(
            _("Not well-formed XML at line %(line)s: %(error)s")
            % {"line": error.lineno, "error": expat.ErrorString(error.code)}
        ) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _child_text(element: ET.Element, path: str, where: str) -> str:
    node: ET.Element | None = element
    for name in path.split("/"):
        node = _child(node, name) if node is not None else None
    if node is None or not (node.text or "").strip():
        raise _fail(where, _("%(element)s is missing") % {"element": path})
    return (node.text or "").strip()


_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")


def _resolution(text: str, where: str) -> dt.timedelta:
    match = _DURATION.match(text)
    step = (
        dt.timedelta(hours=int(match[1] or 0), minutes=int(match[2] or 0))
        if match
        else dt.timedelta(0)
    )
    if step <= dt.timedelta(0) or step % QUARTER:
        raise _fail(where, _("resolution %(value)r is not supported") % {"value": text})
    return step


def _period_points(period: ET.Element, where: str, curve: str) -> list[ParsedPoint]:
    start = _instant(_child_text(period, "timeInterval/start", where), where, "timeInterval/start")
    end = _instant(_child_text(period, "timeInterval/end", where), where, "timeInterval/end")
    step = _resolution(_child_text(period, "resolution", where), where)
    count, rest = divmod(end - start, step)
    if count <= 0 or rest:
        raise _fail(where, _("timeInterval is not a whole number of resolution steps"))
    prices: dict[int, Decimal] = {}
    for point in _children(period, "Point"):
        raw = _child_text(point, "position", where)
        if not raw.isdigit() or not 1 <= int(raw) <= count:
            raise _fail(
                where, _("Point position %(pos)r is outside 1..%(n)d") % {"pos": raw, "n": count}
            )
        position = int(raw)
        at = f"{where}, position {position}"
        if position in prices:
            raise _fail(at, _("duplicate Point position"))
        prices[position] = _decimal(_child_text(point, "price.amount", at), at, "price.amount")
    points = []
    previous: Decimal | None = None
    for position in range(1, count + 1):
        at = f"{where}, position {position}"
        price = prices.get(position)
        if price is None and (curve != "A03" or previous is None):
            raise _fail(at, _("no Point for this position"))
        previous = price if price is not None else previous
        assert previous is not None
        slot = start + (position - 1) * step
        points.append(ParsedPoint(slot, slot + step, _per_kwh(previous / KWH_PER_MWH), at))
    return points


def _series_points(series_el: ET.Element, where: str, currency: str) -> list[ParsedPoint]:
    found = _child_text(series_el, "currency_Unit.name", where)
    if found != currency:
        raise _fail(
            where,
            _("prices in %(found)s, but the series is in %(currency)s")
            % {"found": found, "currency": currency},
        )
    unit = _child_text(series_el, "price_Measure_Unit.name", where)
    if unit.upper() != "MWH":
        raise _fail(where, _("price unit %(unit)r is not MWH") % {"unit": unit})
    curve_el = _child(series_el, "curveType")
    curve = (curve_el.text or "A01").strip() if curve_el is not None else "A01"
    points = []
    for j, period in enumerate(_children(series_el, "Period"), start=1):
        points += _period_points(period, f"{where}, Period {j}", curve)
    return points


def parse_entsoe(data: bytes, series: PriceSeries) -> list[ParsedPoint]:
    _refuse_dtd(data)
    root = ET.fromstring(data)  # noqa: S314 (no DTD, checked above)
    if _local(root.tag) != "Publication_MarketDocument":
        reason = " ".join(t.strip() for t in root.itertext() if t.strip())[:200]
        raise ImportFailed(
            _("%(element)s is not a Publication_MarketDocument (%(reason)s)")
            % {"element": _local(root.tag), "reason": reason}
        )
    points = []
    for i, series_el in enumerate(_children(root, "TimeSeries"), start=1):
        points += _series_points(series_el, f"TimeSeries {i}", series.currency)
    return points


# Octopus JSON -------------------------------------------------------------------------


def _json(data: bytes) -> Any:
    try:
        return json.loads(_text(data))
    except json.JSONDecodeError as error:
        raise ImportFailed(
            _("line %(line)d: not valid JSON (%(error)s)")
            % {"line": error.lineno, "error": error.msg}
        ) from None


def _octopus_price(row: dict[str, Any], where: str) -> Decimal:
    if row.get("value_exc_vat") is not None:
        return _decimal(row["value_exc_vat"], where, "value_exc_vat")
    if row.get("value_inc_vat") is not None:
        return _decimal(row["value_inc_vat"], where, "value_inc_vat") / UK_VAT
    raise _fail(where, _("value_inc_vat is missing"))


def parse_octopus(data: bytes, series: PriceSeries) -> list[ParsedPoint]:
    if series.currency != "GBP":
        raise ImportFailed(_("Octopus prices are in GBP; series %s is not.") % series.code)
    document = _json(data)
    results = document.get("results") if isinstance(document, dict) else None
    if not isinstance(results, list):
        raise ImportFailed(_("$.results: a list of unit rates is missing"))
    points = []
    for k, row in enumerate(results):
        where = f"results[{k}]"
        if not isinstance(row, dict):
            raise _fail(where, _("not an object"))
        if not row.get("valid_to"):
            raise _fail(where, _("valid_to is missing"))
        start = _instant(row.get("valid_from"), where, "valid_from")
        end = _instant(row["valid_to"], where, "valid_to")
        pence = _octopus_price(row, where)
        points.append(ParsedPoint(start, end, _per_kwh(pence / PENCE_PER_POUND), where))
    return points


# Tempo calendars ----------------------------------------------------------------------


def _colour(text: Any, where: str) -> str:
    colour = COLOURS.get(str(text).strip().lower())
    if colour is None:
        raise _fail(
            where,
            _("unknown Tempo colour %(value)r (blue, white or red)") % {"value": str(text)},
        )
    return str(colour)


def _date(text: Any, where: str, what: str) -> dt.date:
    raw = str(text).strip()
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError:
        raise _fail(
            where, _("%(what)s %(value)r is not a date") % {"what": what, "value": raw}
        ) from None


def _tempo_csv(text: str) -> list[ParsedDay]:
    header, rows, _comma = _csv_rows(text)
    colour_name = next((n for n in ("day_type", "colour", "color", "couleur") if n in header), "")
    if "date" not in header or not colour_name:
        raise ImportFailed(
            _("line 1: the header must be 'date,day_type' (found: %(found)s)")
            % {"found": ",".join(header)}
        )
    date_at, colour_at = header.index("date"), header.index(colour_name)
    days = []
    for line, row in rows:
        where = _("line %d") % line
        if len(row) != len(header):
            raise _fail(where, _("expected %d columns") % len(header))
        days.append(
            ParsedDay(_date(row[date_at], where, "date"), _colour(row[colour_at], where), where)
        )
    return days


def _tempo_json(data: bytes) -> list[ParsedDay]:
    document = _json(data)
    calendar = document.get("tempo_like_calendars") if isinstance(document, dict) else None
    values = calendar.get("values") if isinstance(calendar, dict) else None
    if not isinstance(values, list):
        raise ImportFailed(_("$.tempo_like_calendars.values: a list of days is missing"))
    days = []
    for k, row in enumerate(values):
        where = f"tempo_like_calendars.values[{k}]"
        if not isinstance(row, dict):
            raise _fail(where, _("not an object"))
        # start_date is the local midnight that names the day ("2023-03-02T00:00:00+01:00").
        day = _date(row.get("start_date", ""), where, "start_date")
        days.append(ParsedDay(day, _colour(row.get("value", ""), where), where))
    return days


def parse_tempo(data: bytes) -> list[ParsedDay]:
    if data.lstrip()[:1] == b"{":
        return _tempo_json(data)
    return _tempo_csv(_text(data))


# Checks and storage -------------------------------------------------------------------


def _check_points(points: list[ParsedPoint]) -> list[ParsedPoint]:
    if not points:
        raise ImportFailed(_("The file has no prices."))
    for point in points:
        if point.end <= point.start:
            raise _fail(point.where, _("end is not after start"))
        if (point.start - _EPOCH) % QUARTER or (point.end - _EPOCH) % QUARTER:
            raise _fail(point.where, _("start and end must fall on a quarter hour (UTC)"))
    ordered = sorted(points, key=lambda p: p.start)
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise _fail(
                after.where,
                _("overlaps %(other)s (%(start)s)")
                % {"other": before.where, "start": before.start.isoformat()},
            )
    return ordered


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _check_days(days: list[ParsedDay]) -> list[ParsedDay]:
    if not days:
        raise ImportFailed(_("The file has no days."))
    seen: dict[dt.date, str] = {}
    for day in days:
        if day.date in seen:
            raise _fail(day.where, _("%(date)s is already given on %(other)s")
                        % {"date": day.date, "other": seen[day.date]})  # fmt: skip
        seen[day.date] = day.where
    return sorted(days, key=lambda d: d.date)


def _store_points(series: PriceSeries, points: list[ParsedPoint]) -> None:
    """Replace the stored points the new ones overlap, then insert the new ones."""
    starts = [p.start for p in points]
    existing = PricePoint.objects.filter(
        series=series, start__lt=points[-1].end, end__gt=points[0].start
    ).values_list("pk", "start", "end")
    doomed = []
    for pk, start, end in existing:
        i = bisect_left(starts, end) - 1  # the last new point starting before `end`
        if i >= 0 and points[i].end > start:
            doomed.append(pk)
    PricePoint.objects.filter(pk__in=doomed).delete()
    PricePoint.objects.bulk_create(
        (PricePoint(series=series, start=p.start, end=p.end, price_per_kwh=p.price_per_kwh)
         for p in points),
        batch_size=1000,
    )  # fmt: skip


def _store_days(series: PriceSeries, days: list[ParsedDay]) -> None:
    TempoDay.objects.bulk_create(
        [TempoDay(series=series, date=d.date, colour=d.colour) for d in days],
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["series", "date"],
        update_fields=["colour"],
    )


PARSERS: dict[str, Callable[[bytes, PriceSeries], list[ParsedPoint]]] = {
    "csv": lambda data, series: parse_csv(_text(data), series),
    "entsoe": parse_entsoe,
    "octopus": parse_octopus,
}


def _series(series_code: str, format: str) -> PriceSeries:
    if format not in FORMATS:
        raise ImportFailed(_("Unknown format %(format)r.") % {"format": format})
    try:
        series = PriceSeries.objects.get(code=series_code)
    except PriceSeries.DoesNotExist:
        raise ImportFailed(_("No price series %(code)r.") % {"code": series_code}) from None
    wants_tempo = format == "tempo"
    if wants_tempo != (series.kind == SeriesKind.TEMPO):
        raise ImportFailed(
            _("Series %(code)s is a %(kind)s series: the %(format)s format does not fit it.")
            % {"code": series.code, "kind": series.get_kind_display(), "format": format}
        )
    return series


def import_prices(*, series_code: str, file: Any, format: str) -> ImportResult:
    """Parse the whole file, check it, then write it in one transaction (or raise)."""
    series = _series(series_code, format)
    data = _read_bytes(file)
    if format == "tempo":
        days = _check_days(parse_tempo(data))
        with transaction.atomic():
            _store_days(series, days)
        return ImportResult(series.code, len(days), "days", days[0].date, days[-1].date)
    points = _check_points(PARSERS[format](data, series))
    with transaction.atomic():
        _store_points(series, points)
    return ImportResult(series.code, len(points), "points", points[0].start, points[-1].end)
