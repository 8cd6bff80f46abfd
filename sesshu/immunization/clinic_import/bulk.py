"""Writing many rows at once: COPY on PostgreSQL, one executemany on SQLite.

Django's ``bulk_create`` prepares every value of every field through the ORM (about 60 fields per
record): for a 100,000-row file that is most of the time. Here the defaults of the fields a row does
not set are prepared once per call, and the few values a row sets are plain dates, numbers and text.
Constraints still hold: the database checks them as for any insert (IntegrityError).
"""

import json
from datetime import date, datetime

from django.db import IntegrityError, connection
from django.utils import timezone


def _prepare_postgresql(value):
    """A Python value as COPY takes it: psycopg adapts dates, numbers and text; JSON as text."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
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
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def insert(model, rows: list[dict]) -> None:
    """Insert rows (dicts of field attnames → Python values); unset fields take their defaults."""
    if not rows:
        return
    now = timezone.now()
    postgresql = connection.vendor == "postgresql"
    prepare = _prepare_postgresql if postgresql else _prepare_sqlite
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {}
    for f in fields:
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
            defaults[f.attname] = now
        elif f.has_default():
            defaults[f.attname] = f.get_default()
        elif f.null:
            defaults[f.attname] = None
        else:
            defaults[f.attname] = ""  # a blank CharField/TextField
    columns = [f.attname for f in fields]
    prepared_defaults = {k: prepare(v) for k, v in defaults.items()}
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = (tuple(prepare(row[c]) if c in row else prepared_defaults[c] for c in columns) for row in rows)
    with connection.cursor() as cursor:
        if postgresql:
            import psycopg

            try:
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
            except psycopg.errors.IntegrityError as exc:
                raise IntegrityError(str(exc)) from exc
        else:
            marks = ", ".join(["%s"] * len(columns))
            # Table and column names come from the model, never from input; the values are parameters.
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
            cursor.executemany(sql, list(values))
