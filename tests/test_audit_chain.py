"""The audit log is append-only and hash-chained; `sesshu audit verify` finds any break."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from sesshu.audit.context import acting_as
from sesshu.audit.models import Action, AuditChainHead, AuditEvent
from sesshu.audit.services import GENESIS_HASH, event_hash, record, verify_chain

pytestmark = pytest.mark.django_db


def write_events(n: int) -> list[AuditEvent]:
    with acting_as(username="tester", route="test"):
        return [
            record(
                Action.SEARCH,
                purpose="test",
                subjects=[i, i + 1],
                criteria={"name": f"田中{i}"},
                result_count=i,
            )
            for i in range(n)
        ]


def raw_update(sql: str, params: list) -> None:
    """Tamper as an attacker with database access would: straight SQL, around the model."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_links_each_event_to_the_previous_one():
    first, second, third = write_events(3)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert [e.id for e in (first, second, third)] == [1, 2, 3]


def test_it_stores_what_was_done_by_whom_from_where():
    with acting_as(username="clerk9", route="cli:test"):
        event = record(Action.VIEW, purpose="予防接種台帳 個人照会", subjects=[7], result_count=1)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_username == "clerk9"
    assert stored.terminal.startswith("cli:")
    assert stored.subjects == [7]
    assert stored.purpose == "予防接種台帳 個人照会"
    assert stored.hash == event_hash({**stored.__dict__, "actor_id": stored.actor_id})


def test_verify_reports_ok_with_the_count():
    write_events(5)
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue().strip() == "ok 5 events"


def test_an_empty_log_verifies():
    assert str(verify_chain()) == "ok 0 events"


def test_the_model_refuses_updates_and_deletes():
    (event,) = write_events(1)
    event.purpose = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(purpose="changed")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


def test_sql_tampering_is_refused_on_postgresql_and_caught_by_verify_on_sqlite():
    """PostgreSQL's trigger refuses UPDATE/DELETE from anyone; SQLite (the demo database) has no such
    trigger, so there the hash chain is what exposes the change."""
    write_events(2)
    if connection.vendor == "postgresql":
        for sql in (
            "UPDATE audit_auditevent SET purpose = 'x' WHERE id = 1",
            "DELETE FROM audit_auditevent WHERE id = 2",
        ):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                raw_update(sql, [])
        assert verify_chain().ok
    else:
        raw_update("UPDATE audit_auditevent SET purpose = 'x' WHERE id = 1", [])
        assert (verify_chain().ok, verify_chain().broken_at) == (False, 1)


def _disable_trigger():
    """A database superuser can switch triggers off for a session; the chain must still tell."""
    if connection.vendor == "postgresql":
        raw_update("SET LOCAL session_replication_role = replica", [])


def test_verify_finds_a_changed_event():
    write_events(4)
    _disable_trigger()
    raw_update("UPDATE audit_auditevent SET criteria = %s WHERE id = 3", ['{"name": "佐藤"}'])
    result = verify_chain()
    assert not result.ok
    assert result.broken_at == 3
    assert "content" in result.reason
    with pytest.raises(CommandError, match="broken at event 3"):
        call_command("audit", "verify", stdout=io.StringIO())


def test_verify_finds_a_deleted_event():
    write_events(4)
    _disable_trigger()
    raw_update("DELETE FROM audit_auditevent WHERE id = %s", [2])
    result = verify_chain()
    assert (result.ok, result.broken_at) == (False, 2)
    assert "missing" in result.reason


def test_verify_finds_a_cut_off_tail():
    write_events(4)
    _disable_trigger()
    raw_update("DELETE FROM audit_auditevent WHERE id = %s", [4])
    result = verify_chain()
    assert not result.ok
    assert "head" in result.reason


def test_verify_finds_a_rewritten_chain_with_recomputed_hash():
    """Rewriting an event and its own hash still breaks the next event's link."""
    write_events(3)
    _disable_trigger()
    event = AuditEvent.objects.get(pk=2)
    values = {**event.__dict__, "actor_id": event.actor_id, "purpose": "forged"}
    raw_update(
        "UPDATE audit_auditevent SET purpose = %s, hash = %s WHERE id = 2", ["forged", event_hash(values)]
    )
    result = verify_chain()
    assert (result.ok, result.broken_at) == (False, 3)


def test_the_head_tracks_the_last_event():
    events = write_events(3)
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_id, head.last_hash) == (3, events[-1].hash)
