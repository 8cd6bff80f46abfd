"""The matching passes all of a file's keys to the database as one parameter per column (PostgreSQL:
an array literal built here; SQLite: one JSON parameter). Whatever text a key holds (quotes,
backslashes, braces, commas, the word NULL, spaces, the empty string), the database must see exactly
those keys, or a row would be matched against another key or none."""

from datetime import date

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from sesshu.immunization.clinic_import.matching import keys_table

pytestmark = pytest.mark.django_db

# Any text without NUL (PostgreSQL's text refuses it; a file with a NUL is refused as not text).
TEXT = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12)
TRICKY = st.sampled_from(['a","b', "x\\y", '"', "\\", "{", "}", ",", " s ", "NULL", "", "接種券", '\\"'])


def round_trip(columns, rows):
    sql, params = keys_table(columns, rows)
    names = ", ".join(f"k.{name}" for name, _ in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names} FROM {sql}", params)  # noqa: S608 (names from this test)
        return cursor.fetchall()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(TEXT, TRICKY), min_size=1, max_size=30))
def test_text_keys_reach_the_database_unchanged(keys):
    assert [row[0] for row in round_trip([("number", "text")], [(k,) for k in keys])] == keys


def test_ids_dates_and_codes_side_by_side_stay_in_their_rows():
    rows = [(7, "JE", date(2023, 6, 1)), (8, 'M"R', date(2024, 1, 31)), (9, "", date(2020, 2, 29))]
    got = round_trip([("person", "bigint"), ("vaccine", "text"), ("day", "date")], rows)
    as_text = [(int(p), v, d if isinstance(d, date) else date.fromisoformat(d)) for p, v, d in got]
    assert as_text == rows
