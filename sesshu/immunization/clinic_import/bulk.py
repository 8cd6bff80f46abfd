"""Writing many rows at once: COPY on PostgreSQL, one executemany on SQLite.

Django's ``bulk_create`` prepares every value of every field through the ORM (about 60 fields per
record): for a 100,000-row file that is most of the time. Here the defaults of the fields a row does
not set are prepared once per call, and the few values a row sets are plain dates, numbers and text.
Constraints still hold: the database checks them as for any insert (IntegrityError).
"""

import json
from datetime import date, datetime

from django.db import connection
from django.utils import timezone

from sesshu.core.bulk import copy_or_insert

_json = json.JSONEncoder(ensure_ascii=False).encode


def _prepare_postgresql(value):
    """A Python value as COPY takes it: psycopg adapts dates, numbers and text; JSON as text."""
    if isinstance(value, (dict, list)):
        return _json(value)
    return value


def _prepare_sqlite(value):
    """A Python value as Django stores it in SQLite (dates as ISO text, JSON as text)."""
    if value is None or isinstance(value, (str, int, float)):  # bool is an int: SQLite keeps 0/1
        return value
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return _json(value)
    return str(value)


def prepare(value):
    """A Python value as the database takes it in ``copy_rows`` (JSON as text)."""
    if connection.vendor == "postgresql":
        return _prepare_postgresql(value)
    return _prepare_sqlite(value)


def defaults(model, now) -> dict:
    """{attname: default} of the model's fields (not the primary key), as ``insert`` fills them."""
    out = {}
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
            out[f.attname] = now
        elif f.has_default():
            out[f.attname] = f.get_default()
        elif f.null:
            out[f.attname] = None
        else:
            out[f.attname] = ""  # a blank CharField/TextField
    return out


def insert(model, rows: list[dict]) -> None:
    """Insert rows (dicts of field attnames → Python values); unset fields take their defaults."""
    if not rows:
        return
    postgresql = connection.vendor == "postgresql"
    prepare_value = _prepare_postgresql if postgresql else _prepare_sqlite
    prepared_defaults = {k: prepare_value(v) for k, v in defaults(model, timezone.now()).items()}
    columns = list(prepared_defaults)
    values = (
        tuple(prepare_value(row[c]) if c in row else prepared_defaults[c] for c in columns) for row in rows
    )
    copy_rows(model, columns, values)


def copy_rows(model, columns: list[str], rows, *, plain: bool = False) -> None:
    """Insert rows given as tuples of prepared values (None, numbers, text, dates; JSON as text) for
    the columns (attnames) named; the other columns must be nullable or have a database default.
    ``plain``: the values are only None, int and str (``copy_or_insert``)."""
    by_attname = {f.attname: f.column for f in model._meta.concrete_fields}
    copy_or_insert(connection, model._meta.db_table, [by_attname[c] for c in columns], rows, plain=plain)
