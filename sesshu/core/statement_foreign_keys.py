"""Foreign keys checked once per statement, by the database, instead of once per row (PostgreSQL).

Why
---
PostgreSQL checks a foreign key row by row: for every row written, one query on the referenced table
(``SELECT 1 ... FOR KEY SHARE``, a lookup and a row lock) per key. A clinic's monthly file writes
100,000 vaccination records of 7 to 10 keys each and 100,000 import rows of 2 to 4: about a million
single-row checks of ~6 µs each, a third of the import's time on PostgreSQL. The auditors require the
references to stay enforced by the database itself, not by the application; PostgreSQL has no
statement-level referential integrity yet (it was proposed on pgsql-hackers). This module gives it:
``StatementLevelForeignKeys(model_name, fields=[...])`` is a migration operation that, on PostgreSQL,
replaces the row-level constraints of the given foreign keys with statement-level triggers doing one
set-based query per statement. On SQLite it does nothing: SQLite's own foreign keys stay, and they
are cheap there (no locks, no separate query).

What the operation installs (PostgreSQL)
----------------------------------------
- The row-level constraint of each column is dropped (found in ``pg_constraint``).
- On the referencing (child) table, ``AFTER INSERT`` and ``AFTER UPDATE ... FOR EACH STATEMENT``
  triggers with a transition table (``new_rows``: the rows inserted, or the new versions of the rows
  updated) run ``sesshu_fk_check_child()``: ONE query over the statement's rows, for all the keys of
  the operation, finds a non-null value with no row in its referenced table, and raises SQLSTATE 23503
  (foreign_key_violation) with PostgreSQL's own message (``insert or update on table "x" violates
  foreign key constraint "y"``, DETAIL ``Key (c)=(v) is not present in table "z".``, the constraint's
  name as Django had it), so Django raises ``IntegrityError`` as before (psycopg's
  ``ForeignKeyViolation`` as its cause). The transition table is read once into a narrow copy of the
  key columns; each key is then one anti-join, planned with the statement's real row count.
- On UPDATE every new row is checked, changed keys or not. Checking only the changed ones means
  keeping the old rows too and joining them by primary key: measured, that costs more than the check
  it saves (100,000 import rows given a status: about 0.6 s more than with row-level keys with the
  join, 0.2-0.4 s without). Transition tables cannot be limited to ``UPDATE OF`` some columns.
- On each referenced (parent) table, an ``AFTER DELETE ... FOR EACH STATEMENT`` trigger (transition
  table ``old_rows``) runs ``sesshu_fk_check_parent()``: when the statement deleted rows, it locks the
  child table ``IN SHARE MODE`` and refuses with 23503 (``update or delete on table "p" violates
  foreign key constraint "y" on table "c"``, DETAIL ``Key (id)=(v) is still referenced from table
  "c".``) if a child row still references a deleted key: one query for all the deleted rows.
- A referenced key that changes (``UPDATE parent SET id = ...``: Django never does; a vaccine's code
  might be corrected by hand) is checked by an ``AFTER UPDATE OF <key> ... FOR EACH ROW WHEN (OLD.key
  IS DISTINCT FROM NEW.key)`` trigger with the same function: row level, so that the ordinary updates
  of persons, staff or masters cost nothing at all (a statement-level trigger would keep every
  updated row in transition tables: 3.2 s instead of 2.8 s for a 100,000-person UPDATE, measured
  once). The old key counts as removed if no row has it at the end of the statement.
- The semantics are NO ACTION checked at the end of each statement, where Django's constraints were
  DEFERRABLE INITIALLY DEFERRED (checked at COMMIT): a transaction must write a parent before its
  children and delete children before their parent (Django's deletion collector does; the code here
  writes no forward references).
- Both functions are generic, created once: the keys come as trigger arguments (TG_ARGV) and each
  query is built with ``format(%I, %L)``; dynamic ``EXECUTE`` sees the transition tables (PL/pgSQL
  registers them with SPI). The price of planning at every statement: about 0.8-1 ms per statement,
  whatever its rows, where PostgreSQL's own checks cost about 40 µs per record (4-6 µs per key); a
  statement writing one record (a clerk's entry) takes about 1 ms longer, one of more than about 20
  records is faster. (A
  function per table with static SQL would keep its plan, ~0.04 ms, but one plan for 1 row and
  100,000 alike; not done.)
  Referenced tables are looked up in the trigger's own schema (Django keeps every table in one).
  The functions run as the caller (SECURITY INVOKER): the application's role needs SELECT on the
  referenced tables and, to delete a referenced row, UPDATE or DELETE on the referencing table (for
  the SHARE lock); docs/operations.md's grants give both.

Concurrency (the argument)
--------------------------
A row-level foreign key locks the parent row (``FOR KEY SHARE``) from the child's insert, so a
concurrent delete of that row waits or fails. Here nothing is locked per row; instead:

1. Every writer of the child table holds ``ROW EXCLUSIVE`` on it from its first INSERT/UPDATE until
   its transaction ends (PostgreSQL's own table lock for any DML).
2. A statement that removes parent keys takes ``SHARE`` on the child table before it checks, and keeps
   it until its transaction ends (a statement that removes none takes nothing). ``SHARE`` conflicts
   with ``ROW EXCLUSIVE``: it waits for every transaction that has written the child table to commit
   or abort, and from then on any new writer of the child table waits for the deleter to end.
3. In READ COMMITTED every SQL statement of a VOLATILE PL/pgSQL function takes a fresh snapshot, so
   each check sees everything committed before it began (and its own transaction's work).

Take an inserter I (writes a child row referencing key K) and a deleter D (removes K), both READ
COMMITTED. I's ``ROW EXCLUSIVE`` (from its insert to its end) and D's ``SHARE`` (from its check to
its end) cannot overlap in time. So either
(a) I ended before D obtained ``SHARE``: if I committed, D's check, whose snapshot is taken after
    the lock, sees I's row and D fails; or
(b) D ended before I's insert could take ``ROW EXCLUSIVE``: if D committed, I's check, which runs
    after its insert and so after D's commit, does not see K and I fails.
Either way at most one of them commits. (When D has deleted K but not yet reached its check, I's check
still sees K, because D has not committed; I commits, and D's check, waiting for I, then sees I's row:
case (a).) Parent rows a concurrent transaction inserts but has not committed are invisible to the
check, as to PostgreSQL's own (its ``FOR KEY SHARE`` does not see them either).

REPEATABLE READ and SERIALIZABLE keep one snapshot for the whole transaction, which breaks point 3:
- Child side: I's snapshot may predate D's commit, so K would still look present. There the check
  first locks the distinct referenced rows ``FOR KEY SHARE`` (as PostgreSQL's own check does): a row
  deleted (or its key changed) by a transaction that committed after I's snapshot raises a
  serialization failure (40001, retry), one being deleted makes I wait for D (or PostgreSQL reports a
  deadlock, 40P01, if D is waiting for I's table lock), and the check then runs on I's snapshot.
- Parent side: D's snapshot may predate an inserter's commit, whose rows D would then not see even
  after waiting for the lock. PostgreSQL's own check reads with a newer snapshot there, which PL/pgSQL
  cannot take; and locking the rows found does not help with rows one cannot see. So a statement that
  removes keys of a referenced table under REPEATABLE READ or SERIALIZABLE is refused, whether
  anything points to them or not (SQLSTATE 0A000, feature_not_supported; the statement is undone):
  the safe choice. Deletes of masters, staff and persons run in READ COMMITTED, Django's default;
  sesshu never uses another level. (SERIALIZABLE alone would catch this as a read/write conflict,
  but only if every writer of the child table were SERIALIZABLE too.)

Costs of the table lock: a delete of a referenced row waits for every open transaction that wrote the
child table (a clinic file's commit: seconds), and the child table's writers queue behind it until it
ends. A transaction that wrote the child table and then waits for a row the deleter holds (say, it
updates the person being deleted) deadlocks with it; PostgreSQL cancels one of the two (40P01). Two
transactions that both wrote the child table and both delete referenced rows deadlock the same way.
Deleting masters, staff or persons is rare and short; sesshu deletes none of them concurrently.

What is not guarded
-------------------
- ``TRUNCATE`` of a referenced table (no row triggers fire; Django's ``flush`` truncates every table
  in one statement). Only the table owner may truncate (docs/operations.md's grants).
- ``session_replication_role = replica`` and ``ALTER TABLE ... DISABLE TRIGGER`` switch the checks off,
  as they do PostgreSQL's own foreign keys.
- Triggers are created after the data by ``pg_restore``, and, unlike ``ADD CONSTRAINT``, check
  nothing already there: the restored data is what was dumped, which the triggers had checked.
- The schema editor no longer sees a constraint on these columns. A later ``AlterField`` of one of them
  does not re-add it; renaming or retyping such a column, or retyping the referenced primary key (which
  makes Django re-create every constraint pointing to it), needs this operation reversed first and
  applied again after. ``tests/test_statement_foreign_keys.py`` fails if a row-level constraint
  reappears on a converted column.
"""

import hashlib

from django.db import models
from django.db.migrations.operations.base import Operation

__all__ = ["StatementLevelForeignKeys"]

# TG_ARGV: four values per foreign key: the constraint's name, the column, the referenced table (in
# the trigger's schema), the referenced column. Transition table: new_rows (the rows inserted, or the
# new versions of the rows updated).
CHILD_FUNCTION = r"""
CREATE OR REPLACE FUNCTION sesshu_fk_check_child() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $function$
DECLARE
  keys text;
  columns text[] := '{}';
  checks text[] := '{}';
  locks text[] := '{}';
  any_row boolean;
  bad_constraint text;
  bad_column text;
  bad_value text;
  bad_table text;
BEGIN
  EXECUTE 'SELECT EXISTS (SELECT FROM new_rows)' INTO any_row;
  IF NOT any_row THEN
    RETURN NULL;
  END IF;
  FOR i IN 0 .. TG_NARGS - 1 BY 4 LOOP
    columns := columns || format('%I', TG_ARGV[i + 1]);
    checks := checks || format(
      '(SELECT %L AS constraint_name, %L AS column_name, k.%I::text AS value, %L AS table_name'
      ' FROM keys k WHERE k.%I IS NOT NULL AND NOT EXISTS (SELECT FROM %I.%I r WHERE r.%I = k.%I) LIMIT 1)',
      TG_ARGV[i], TG_ARGV[i + 1], TG_ARGV[i + 1], TG_ARGV[i + 2],
      TG_ARGV[i + 1], TG_TABLE_SCHEMA, TG_ARGV[i + 2], TG_ARGV[i + 3], TG_ARGV[i + 1]);
    locks := locks || format(
      '(SELECT count(*) FROM (SELECT FROM %I.%I r WHERE r.%I IN (SELECT %I FROM keys)'
      ' FOR KEY SHARE OF r) l)',
      TG_TABLE_SCHEMA, TG_ARGV[i + 2], TG_ARGV[i + 3], TG_ARGV[i + 1]);
  END LOOP;
  -- The statement's keys, one narrow row per row written: the wide transition table is read once.
  keys := format('SELECT %s FROM new_rows', array_to_string(columns, ', '));
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    -- One snapshot for the whole transaction: lock the referenced rows first, so that one deleted
    -- since the snapshot raises a serialization failure instead of passing the check.
    EXECUTE format('WITH keys AS MATERIALIZED (%s) SELECT %s', keys, array_to_string(locks, ' + '));
  END IF;
  EXECUTE format('WITH keys AS MATERIALIZED (%s) SELECT * FROM (%s) v LIMIT 1',
                 keys, array_to_string(checks, ' UNION ALL '))
    INTO bad_constraint, bad_column, bad_value, bad_table;
  IF bad_constraint IS NOT NULL THEN
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"',
      TG_TABLE_NAME, bad_constraint
      USING ERRCODE = 'foreign_key_violation',
            DETAIL = format('Key (%s)=(%s) is not present in table "%s".', bad_column, bad_value, bad_table),
            SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME, CONSTRAINT = bad_constraint;
  END IF;
  RETURN NULL;
END
$function$
"""

# TG_ARGV: the referencing table (in the trigger's schema), then three values per foreign key: the
# constraint's name, the referencing column, the referenced column (of this table). Statement level
# for DELETE (transition table old_rows), row level for an UPDATE of a referenced column that changed
# it (OLD and NEW).
PARENT_FUNCTION = r"""
CREATE OR REPLACE FUNCTION sesshu_fk_check_parent() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $function$
DECLARE
  child text := TG_ARGV[0];
  removed text;
  removals text[] := '{}';
  checks text[] := '{}';
  any_removed boolean;
  bad_constraint text;
  bad_column text;
  bad_key text;
  bad_value text;
BEGIN
  FOR i IN 1 .. TG_NARGS - 1 BY 3 LOOP
    -- The keys of this table the statement removed: the deleted rows' keys, or the row's old key when
    -- it changed and no other row has it now.
    IF TG_OP = 'DELETE' THEN
      removed := format('SELECT %I FROM old_rows', TG_ARGV[i + 2]);
    ELSE
      removed := format(
        'SELECT ($1).%1$I WHERE ($1).%1$I IS DISTINCT FROM ($2).%1$I'
        ' AND NOT EXISTS (SELECT FROM %2$I.%3$I p WHERE p.%1$I = ($1).%1$I)',
        TG_ARGV[i + 2], TG_TABLE_SCHEMA, TG_TABLE_NAME);
    END IF;
    removals := removals || format('EXISTS (%s)', removed);
    checks := checks || format(
      '(SELECT %L AS constraint_name, %L AS column_name, %L AS key_name, c.%I::text AS value'
      ' FROM %I.%I c WHERE c.%I IN (%s) LIMIT 1)',
      TG_ARGV[i], TG_ARGV[i + 1], TG_ARGV[i + 2], TG_ARGV[i + 1],
      TG_TABLE_SCHEMA, child, TG_ARGV[i + 1], removed);
  END LOOP;
  EXECUTE 'SELECT ' || array_to_string(removals, ' OR ') INTO any_removed USING OLD, NEW;
  IF NOT any_removed THEN
    RETURN NULL;
  END IF;
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    -- The check must see rows committed after this transaction's snapshot, which only READ COMMITTED
    -- gives a PL/pgSQL function (sesshu/core/statement_foreign_keys.py).
    RAISE EXCEPTION 'update or delete on table "%" referenced by table "%" is refused in % isolation',
      TG_TABLE_NAME, child, upper(current_setting('transaction_isolation'))
      USING ERRCODE = 'feature_not_supported',
            HINT = 'Run it in a READ COMMITTED transaction (statement-level foreign keys).',
            SCHEMA = TG_TABLE_SCHEMA, TABLE = child;
  END IF;
  -- Wait for every transaction that wrote the child table, and keep new writers out until this one
  -- ends; then look with a fresh snapshot (READ COMMITTED: one per statement).
  EXECUTE format('LOCK TABLE %I.%I IN SHARE MODE', TG_TABLE_SCHEMA, child);
  EXECUTE format('SELECT * FROM (%s) v LIMIT 1', array_to_string(checks, ' UNION ALL '))
    INTO bad_constraint, bad_column, bad_key, bad_value USING OLD, NEW;
  IF bad_constraint IS NOT NULL THEN
    RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on table "%"',
      TG_TABLE_NAME, bad_constraint, child
      USING ERRCODE = 'foreign_key_violation',
            DETAIL = format('Key (%s)=(%s) is still referenced from table "%s".', bad_key, bad_value, child),
            SCHEMA = TG_TABLE_SCHEMA, TABLE = child, CONSTRAINT = bad_constraint;
  END IF;
  RETURN NULL;
END
$function$
"""

FUNCTIONS = {"sesshu_fk_check_child": CHILD_FUNCTION, "sesshu_fk_check_parent": PARENT_FUNCTION}


class StatementLevelForeignKeys(Operation):
    """On PostgreSQL, check these foreign keys of the model per statement instead of per row: the
    row-level constraints are dropped and statement-level triggers installed (module docstring).
    Nothing on other databases. Reversible: the triggers go and Django's constraints come back
    (DEFERRABLE INITIALLY DEFERRED, as Django creates them).

    The model's state is unchanged (the fields keep ``db_constraint=True``), so SQLite keeps its
    foreign keys. Several operations may cover different keys of one model: each has its own triggers,
    named after a digest of its table and columns."""

    reduces_to_sql = False
    reversible = True

    def __init__(self, model_name: str, fields: list[str]):
        self.model_name = model_name
        self.fields = list(fields)

    def deconstruct(self):
        return self.__class__.__qualname__, [self.model_name, self.fields], {}

    def describe(self) -> str:
        return f"Check foreign keys {', '.join(self.fields)} of {self.model_name} per statement (PostgreSQL)"

    @property
    def migration_name_fragment(self) -> str:
        return f"statement_level_foreign_keys_{self.model_name.lower()}"

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self._applies(schema_editor, model):
            return
        keys = self.keys(model, schema_editor)
        for sql in FUNCTIONS.values():
            schema_editor.execute(sql, params=None)
        quote = schema_editor.quote_name
        for key in keys:
            for name in row_level_constraints(schema_editor.connection, key.table, key.column):
                sql = f"ALTER TABLE {quote(key.table)} DROP CONSTRAINT {quote(name)}"
                schema_editor.execute(sql, params=None)
        for sql in self._drop_triggers_sql(model, keys, schema_editor):
            schema_editor.execute(sql, params=None)
        for sql in self._create_triggers_sql(model, keys, schema_editor):
            schema_editor.execute(sql, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self._applies(schema_editor, model):
            return
        keys = self.keys(model, schema_editor)
        for sql in self._drop_triggers_sql(model, keys, schema_editor):
            schema_editor.execute(sql, params=None)
        for key in keys:
            if not row_level_constraints(schema_editor.connection, key.table, key.column):
                schema_editor.execute(
                    schema_editor._create_fk_sql(model, key.field, "_fk_%(to_table)s_%(to_column)s")
                )
        with schema_editor.connection.cursor() as cursor:
            for function in FUNCTIONS:
                cursor.execute(
                    "SELECT count(*) FROM pg_trigger WHERE tgfoid = to_regprocedure(%s)", [f"{function}()"]
                )
                if cursor.fetchone()[0] == 0:
                    schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()", params=None)

    # ------------------------------------------------------------------------------------------------

    def _applies(self, schema_editor, model) -> bool:
        return schema_editor.connection.vendor == "postgresql" and self.allow_migrate_model(
            schema_editor.connection.alias, model
        )

    def keys(self, model, schema_editor) -> list["_Key"]:
        out = []
        for name in self.fields:
            field = model._meta.get_field(name)
            if not isinstance(field, models.ForeignKey) or not field.db_constraint:
                raise ValueError(f"{model._meta.label}.{name} is not a foreign key with a constraint")
            out.append(_Key(model, field, schema_editor))
        return out

    def digest(self, model) -> str:
        """Eight hex digits naming this operation's triggers (its table and columns)."""
        columns = sorted(model._meta.get_field(name).column for name in self.fields)
        text = "\0".join([model._meta.db_table, *columns])
        return hashlib.sha256(text.encode()).hexdigest()[:8]

    def trigger_names(self, model) -> dict[str, str]:
        prefix = f"sesshu_fk_{self.digest(model)}"
        return {
            "child_insert": f"{prefix}_child_insert",
            "child_update": f"{prefix}_child_update",
            "parent_delete": f"{prefix}_parent_delete",
            "parent_update": f"{prefix}_parent_update",
        }

    def _drop_triggers_sql(self, model, keys, schema_editor) -> list[str]:
        quote = schema_editor.quote_name
        names = self.trigger_names(model)
        table = quote(model._meta.db_table)
        sql = [
            f"DROP TRIGGER IF EXISTS {quote(names[n])} ON {table}" for n in ("child_insert", "child_update")
        ]
        for parent in sorted({key.parent_table for key in keys}):
            for n in ("parent_delete", "parent_update"):
                sql.append(f"DROP TRIGGER IF EXISTS {quote(names[n])} ON {quote(parent)}")
        return sql

    def _create_triggers_sql(self, model, keys, schema_editor) -> list[str]:
        quote = schema_editor.quote_name
        names = self.trigger_names(model)
        table = model._meta.db_table
        child_args = []
        for key in keys:
            child_args += [key.constraint, key.column, key.parent_table, key.parent_column]
        args = _arguments(child_args)
        sql = [
            f"CREATE TRIGGER {quote(names[f'child_{event.lower()}'])} AFTER {event} ON {quote(table)} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION sesshu_fk_check_child({args})"
            for event in ("INSERT", "UPDATE")
        ]
        for parent in sorted({key.parent_table for key in keys}):
            parent_args = [table]
            for key in keys:
                if key.parent_table == parent:
                    parent_args += [key.constraint, key.column, key.parent_column]
            args = _arguments(parent_args)
            referenced = sorted({key.parent_column for key in keys if key.parent_table == parent})
            changed = " OR ".join(f"OLD.{quote(c)} IS DISTINCT FROM NEW.{quote(c)}" for c in referenced)
            sql += [
                f"CREATE TRIGGER {quote(names['parent_delete'])} AFTER DELETE ON {quote(parent)} "
                "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
                f"EXECUTE FUNCTION sesshu_fk_check_parent({args})",
                # Row level, and only when a referenced key changes (which Django never does): an
                # UPDATE that leaves the keys alone costs nothing, not even a transition table.
                f"CREATE TRIGGER {quote(names['parent_update'])} "
                f"AFTER UPDATE OF {', '.join(map(quote, referenced))} ON {quote(parent)} "
                f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION sesshu_fk_check_parent({args})",
            ]
        return sql


class _Key:
    """One foreign key: its table and column, the referenced table and column, the constraint's name
    (Django's, as the row-level constraint had it: errors name it as PostgreSQL did)."""

    def __init__(self, model, field, schema_editor):
        self.field = field
        self.table = model._meta.db_table
        self.column = field.column
        self.parent_table = field.target_field.model._meta.db_table
        self.parent_column = field.target_field.column
        name = schema_editor._fk_constraint_name(model, field, "_fk_%(to_table)s_%(to_column)s")
        self.constraint = str(name).strip('"')


def _arguments(values: list[str]) -> str:
    """Trigger arguments as SQL string literals."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def row_level_constraints(connection, table: str, column: str) -> list[str]:
    """The names of the row-level foreign key constraints on this one column (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a "
            "ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND c.conrelid = to_regclass(%s) AND cardinality(c.conkey) = 1 "
            "AND a.attname = %s ORDER BY c.conname",
            [connection.ops.quote_name(table), column],
        )
        return [name for (name,) in cursor.fetchall()]
