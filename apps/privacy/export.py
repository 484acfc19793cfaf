"""The household's copy of its data (GDPR art. 15 and 20): one zip, JSON and CSV.

The zip holds `household.json` (schema-versioned: every table as its columns and its rows)
and `csv/<app>.<Model>.csv`, one per table. The tables are every model linked to the
household (`gdpr.household_links`), its members' accounts (never their passwords) and the
earlier data-rights records about it. Each table is read once, with `.iterator(chunk_size)`,
each row going into the JSON document (written into the zip as it comes) and into the
table's CSV (spooled until the JSON is complete), so a year of readings never sits in
memory. The zip goes to a temporary file that the response streams in blocks.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO, Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.http import content_disposition_header

from apps.accounts.models import User
from apps.households.models import Household
from apps.privacy import gdpr
from apps.privacy.models import DataRightsKind, DataRightsRecord

JSON_NAME = "household.json"
CHUNK_ROWS = 5000
SPOOL_BYTES = 256 * 1024  # a table's CSV waits in memory up to this, then on disk
DOWNLOAD_BLOCK = 64 * 1024


def _iso(value: Any) -> str:
    return str(value.isoformat())


# Values the JSON encoder does not know, by the column's type: converted once per cell here
# rather than through an encoder's default() (a year of readings is ~10^6 cells).
JSON_READY: dict[str, Callable[[Any], Any]] = {
    "DateTimeField": _iso,
    "DateField": _iso,
    "TimeField": _iso,
    "UUIDField": str,
    "DecimalField": str,
    "DurationField": str,
}


_encode_sorted = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


def _csv_json(value: Any) -> str:
    return _encode_sorted(value)


def _csv_bool(value: Any) -> str:
    return "true" if value else "false"


CSV_READY: dict[str, Callable[[Any], Any]] = {"JSONField": _csv_json, "BooleanField": _csv_bool}

Converters = list[tuple[int, Callable[[Any], Any]]]
# One encoder for every row (json.dumps with options builds a new one per call); anything
# still unknown after the converters is written as its string.
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _column_type(model: type[Model], attname: str) -> str:
    field: Any = next(f for f in model._meta.concrete_fields if f.attname == attname)
    if field.is_relation:  # a foreign key's column has its target's type
        field = field.target_field
    return str(field.get_internal_type())


@dataclass(frozen=True)
class ExportTable:
    label: str
    columns: list[str]
    queryset: QuerySet[Any]
    order: list[str]
    for_json: Converters  # (column index, converter) for the cells that need one
    for_csv: Converters

    def rows(self) -> Iterator[tuple[Any, ...]]:
        ordered = self.queryset.order_by(*self.order).values_list(*self.columns)
        return ordered.iterator(chunk_size=CHUNK_ROWS)


@dataclass
class HouseholdExport:
    file: IO[bytes]  # the zip, rewound; the caller streams (export_chunks) and closes it
    size: int
    filename: str
    record: DataRightsRecord


def _table(model: type[Model], queryset: QuerySet[Any]) -> ExportTable:
    columns = gdpr.exported_columns(model)
    types = [_column_type(model, column) for column in columns]
    return ExportTable(
        label=model._meta.label,
        columns=columns,
        queryset=queryset,
        order=gdpr.ordering_columns(model),
        for_json=[(i, JSON_READY[t]) for i, t in enumerate(types) if t in JSON_READY],
        for_csv=[(i, CSV_READY[t]) for i, t in enumerate(types) if t in CSV_READY],
    )


def export_tables(household: Household) -> list[ExportTable]:
    """The household first, then every linked table by name, then the people and the audit."""
    links = sorted(
        gdpr.exported_links(), key=lambda link: (link.model is not Household, link.label)
    )
    tables = [_table(link.model, link.rows_of(household.pk)) for link in links]
    members = User._base_manager.filter(memberships__household=household.pk)
    tables.append(_table(User, members))
    audit = DataRightsRecord._base_manager.filter(household_id=household.pk)
    tables.append(_table(DataRightsRecord, audit))
    return tables


def _converted(row: tuple[Any, ...], converters: Converters) -> list[Any]:
    cells = list(row)
    for index, convert in converters:
        if cells[index] is not None:
            cells[index] = convert(cells[index])
    return cells


def _header(household: Household) -> str:
    header = {
        "schema": gdpr.EXPORT_SCHEMA,
        "schema_version": gdpr.EXPORT_SCHEMA_VERSION,
        "exported_at": timezone.now(),
        "household_id": household.pk,
        "format": "each table: its columns, and its rows as arrays in the same order; "
        "times in UTC (ISO 8601), energy in Wh, power in W, money as decimal strings",
    }
    return json.dumps(header, cls=DjangoJSONEncoder, ensure_ascii=False)[:-1] + ', "tables": {'


def _write_table(json_text: IO[str], csv_out: Any, table: ExportTable, first: bool) -> int:
    """One pass over the table's rows: each goes to the JSON document and to the CSV."""
    label, columns = json.dumps(table.label), json.dumps(table.columns)
    json_text.write(f'{"" if first else ", "}{label}: {{"columns": {columns}, "rows": [')
    csv_out.writerow(table.columns)
    count = 0
    for row in table.rows():
        cells = _converted(row, table.for_json)
        json_text.write(("," if count else "") + "\n")
        json_text.write(_encode(cells))
        csv_out.writerow(_converted(tuple(cells), table.for_csv))
        count += 1
    json_text.write("]}")
    return count


def _open_text(archive: zipfile.ZipFile, name: str) -> io.TextIOWrapper:
    raw = archive.open(name, "w", force_zip64=True)  # zip64: a big table may pass 2 GiB
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def write_export(household: Household, out: IO[bytes]) -> dict[str, int]:
    """Writes the zip into `out`; returns the rows exported per table.

    A zip is written one member at a time, so each table's CSV waits in a spooled
    temporary file while the JSON document is written, then is copied in after it."""
    counts: dict[str, int] = {}
    # Deflate level 1: several times faster than the default on text, a zip ~20 % larger.
    archive = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
    with ExitStack() as spools, archive:
        csv_files: dict[str, tempfile.SpooledTemporaryFile[str]] = {}
        with _open_text(archive, JSON_NAME) as json_text:
            json_text.write(_header(household))
            for index, table in enumerate(export_tables(household)):
                spool = spools.enter_context(
                    tempfile.SpooledTemporaryFile(
                        max_size=SPOOL_BYTES, mode="w+", encoding="utf-8", newline=""
                    )
                )
                counts[table.label] = _write_table(json_text, csv.writer(spool), table, index == 0)
                csv_files[table.label] = spool
            json_text.write("}}\n")
        for label, spool in csv_files.items():
            spool.seek(0)
            with _open_text(archive, f"csv/{label}.csv") as csv_text:
                shutil.copyfileobj(spool, csv_text, DOWNLOAD_BLOCK)
    return counts


async def export_chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    """The zip in blocks, for a streaming response: an async iterator, because under ASGI
    Django reads a synchronous one whole into memory before sending it. Closes the file."""
    try:
        while block := await sync_to_async(file.read, thread_sensitive=False)(DOWNLOAD_BLOCK):
            yield block
    finally:
        file.close()


def _in_one_snapshot(household: Household, out: IO[bytes]) -> dict[str, int]:
    """JSON and CSV are read in two passes: on PostgreSQL one REPEATABLE READ transaction
    makes both (and every table) show the same instant, even while readings arrive."""
    # Only a transaction's first statement may set its isolation level: inside an outer
    # transaction (a test, a caller's atomic block) this block is a savepoint and keeps it.
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return write_export(household, out)


def zip_download(export: HouseholdExport, request: HttpRequest) -> HttpResponseBase:
    """The response both the portal and the API send: the zip, streamed as an attachment.

    Under ASGI an async iterator (Django reads a synchronous one whole into memory there);
    under WSGI the file itself, which the server streams (it cannot consume an async one).
    """
    if isinstance(request, ASGIRequest):
        response: HttpResponseBase = StreamingHttpResponse(
            export_chunks(export.file), content_type="application/zip"
        )
    else:
        response = FileResponse(export.file, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    response["Content-Length"] = str(export.size)
    return response


def household_export(*, user: Any, household_id: Any) -> HouseholdExport:
    """The owner's (or a platform admin's) export; Household.DoesNotExist for anyone else."""
    household = gdpr.rights_household(user=user, household_id=household_id)
    out = tempfile.TemporaryFile()  # noqa: SIM115  (handed to the response, which closes it)
    try:
        counts = _in_one_snapshot(household, out)
    except BaseException:
        out.close()
        raise
    size = out.seek(0, io.SEEK_END)
    out.seek(0)
    record = DataRightsRecord.objects.create(
        kind=DataRightsKind.EXPORT,
        household_id=household.pk,
        tenant_id=household.tenant_id,
        requested_by=user,
        requested_by_name=user.get_username(),
        counts=counts,
        finished_at=timezone.now(),
    )
    filename = f"household-{household.pk}-{timezone.now():%Y%m%d}.zip"
    return HouseholdExport(out, size, filename, record)
