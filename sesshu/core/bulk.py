"""Writing many rows in a few statements: COPY on PostgreSQL, one prepared statement on SQLite.

Django's ``bulk_create`` and ``bulk_update`` compile every value of every row into SQL through the ORM
(a model instance per row, a CASE expression per column): milliseconds per row in Python alone, which
is most of a batch's time at tens of thousands of rows. These take plain values; constraints still
hold, the database checks them as for any insert.
"""

import gc
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, models
from django.utils import timezone


def update_rows(model, objects, fields: list[str]) -> None:
    """Write these columns of these rows from the objects' values, in a few statements.

    Django's ``bulk_update`` builds a CASE expression per column over every row of a batch, which
    costs milliseconds per row in Python alone. On PostgreSQL the values are COPied into a scratch
    table and one UPDATE joins it; on SQLite an executemany of one plain UPDATE (run in C, in-process).
    """
    if not objects:
        return
    db = connections[DEFAULT_DB_ALIAS]
    concrete = [model._meta.get_field(name) for name in fields]
    prepare = [(f.attname, _preparer(f)) for f in concrete]
    rows = [[obj.pk] + [save(getattr(obj, name), db) for name, save in prepare] for obj in objects]
    quote = db.ops.quote_name
    table, pk = quote(model._meta.db_table), model._meta.pk
    with db.cursor() as cursor:
        if db.vendor != "postgresql":
            assignments = ", ".join(f"{quote(f.column)} = %s" for f in concrete)
            sql = f"UPDATE {table} SET {assignments} WHERE {quote(pk.column)} = %s"  # noqa: S608
            cursor.executemany(sql, [row[1:] + row[:1] for row in rows])
            return
        # COPY the new values into a scratch table shaped like the columns, then one UPDATE joins it.
        columns = [pk.column, *(f.column for f in concrete)]
        scratch = quote(f"bulk_{model._meta.db_table}")
        cursor.execute(
            f"CREATE TEMP TABLE {scratch} ON COMMIT DROP AS SELECT {', '.join(map(quote, columns))} "  # noqa: S608
            f"FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {scratch} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        assignments = ", ".join(f"{quote(f.column)} = s.{quote(f.column)}" for f in concrete)
        key = quote(pk.column)
        cursor.execute(f"UPDATE {table} SET {assignments} FROM {scratch} s WHERE {table}.{key} = s.{key}")  # noqa: S608
        cursor.execute(f"DROP TABLE {scratch}")


def insert_rows(model, rows: list[dict]) -> None:
    """INSERT rows given as {attname: value}; ids are left to the database and not read back.

    Items not given take the field's default; auto_now(_add) dates are now. ``bulk_create`` would do,
    but it builds a model instance per row and, on SQLite, composes statements of twenty 50-column
    rows. Here: COPY on PostgreSQL, an executemany of one prepared INSERT on SQLite.
    """
    if not rows:
        return
    db = connections[DEFAULT_DB_ALIAS]
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)]
    now = timezone.now()
    defaults = {
        f.attname: now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in fields
    }
    names = [(f.attname, defaults[f.attname]) for f in fields]
    # Only dates, times and JSON go through their field (text, numbers and ids go as they are).
    prepared = [(i, f.get_db_prep_save) for i, f in enumerate(fields) if not isinstance(f, _AS_IS)]
    values = []
    for row in rows:
        value = [row.get(name, default) for name, default in names]
        for i, save in prepared:
            value[i] = save(value[i], db)
        values.append(value)
    copy_or_insert(db, model._meta.db_table, [f.column for f in fields], values)


_COPY_CHUNK = 2000


def _copy_text(value: str) -> str:
    """A str in COPY's text format: backslash, tab, newline and carriage return escaped (four scans
    for them cost less than any translation of the whole string, which is rarely needed)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _copy_line(row) -> str:
    """A row of None, int and str values as a line of COPY text (NULL is \\N)."""
    return (
        "\t".join(["\\N" if v is None else _copy_text(v) if v.__class__ is str else str(v) for v in row])
        + "\n"
    )


def copy_or_insert(db, table: str, columns: list[str], values, *, plain: bool = False) -> None:
    """Rows already in the database's terms (``values``: sequences in the order of ``columns``).

    ``plain``: every value is None, an int (not a bool) or a str. On PostgreSQL the rows are then
    written as COPY text here, a chunk at a time, instead of row by row through psycopg's
    ``write_row`` (whose per-row overhead is most of a narrow table's COPY from Python)."""
    quote = db.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            import psycopg

            # COPY runs on psycopg's own cursor, outside Django's error wrapper: a violated constraint
            # is raised as Django's IntegrityError, as for any other insert.
            try:
                with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                    if plain:
                        chunk = []
                        for row in values:
                            chunk.append(_copy_line(row))
                            if len(chunk) == _COPY_CHUNK:
                                copy.write("".join(chunk))
                                chunk = []
                        copy.write("".join(chunk))
                    else:
                        for row in values:
                            copy.write_row(row)
            except psycopg.errors.IntegrityError as exc:
                raise IntegrityError(str(exc)) from exc
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", values)  # noqa: S608


_AS_IS = (models.CharField, models.TextField, models.BooleanField, models.IntegerField, models.ForeignKey)


def _as_is(value, db):
    return value


def _preparer(field):
    """How a value goes to the database: text, flags, integers and ids as they are (what their
    get_db_prep_save returns for values already of their type), the rest through the field."""
    return _as_is if isinstance(field, _AS_IS) else field.get_db_prep_save


@contextmanager
def no_cycle_collection():
    """Python's cycle collector paused for a batch that allocates millions of short-lived objects
    none of which is in a reference cycle (a clinic file's rows, a city's forecasts): each allocation
    threshold crossed would make the collector walk them all again (a third of a clinic file's
    matching, half again the city forecast's time). Reference counting still frees everything;
    collection resumes afterwards (the state is process-wide, so another thread's cycles wait as long)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
