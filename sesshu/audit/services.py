"""Writing and verifying the audit log.

``record()`` is the one way an event is written. Each event carries the SHA-256 of its canonical form
(sorted-key JSON of every field but the hash) and the hash of the event before it; appending takes
a lock on the chain head so that concurrent writers line up.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC

from django.db import connection, models, transaction
from django.utils import timezone

from sesshu.core.bulk import copy_or_insert

from . import context
from .models import Action, AuditChainHead, AuditEvent, Outcome

GENESIS_HASH = "0" * 64
_FIELDS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_username",
    "ip_address",
    "terminal",
    "request_id",
    "route",
    "action",
    "outcome",
    "purpose",
    "object_type",
    "subjects",
    "criteria",
    "result_count",
    "detail",
    "prev_hash",
)


def canonical_form(values: dict) -> bytes:
    data = {name: values[name] for name in _FIELDS}
    data["occurred_at"] = values["occurred_at"].astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def event_hash(values: dict) -> str:
    return hashlib.sha256(canonical_form(values)).hexdigest()


def _plain(value):
    """Criteria and details keep only JSON-stable values (no floats, no objects)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def record(
    action: Action | str,
    *,
    purpose: str,
    subjects: Iterable[int] = (),
    object_type: str = "",
    criteria: dict | None = None,
    result_count: int | None = None,
    outcome: Outcome | str = Outcome.OK,
    detail: dict | None = None,
    actor=None,
) -> AuditEvent:
    """Append one event. ``actor`` overrides the context's (for login events, before the session)."""
    return _append_event(
        event_values(
            action,
            purpose=purpose,
            subjects=subjects,
            object_type=object_type,
            criteria=criteria,
            result_count=result_count,
            outcome=outcome,
            detail=detail,
            actor=actor,
        )
    )


def event_values(
    action: Action | str,
    *,
    purpose: str,
    subjects: Iterable[int] = (),
    object_type: str = "",
    criteria: dict | None = None,
    result_count: int | None = None,
    outcome: Outcome | str = Outcome.OK,
    detail: dict | None = None,
    actor=None,
) -> dict:
    """An event's content as ``record()`` writes it, taken now (who, when, what), not yet in the chain.

    For ``record_many``: a batch job collects one of these per act, as it happens, and appends them
    together.
    """
    ctx = context.current()
    return {
        "occurred_at": timezone.now(),
        "actor_id": actor.pk if actor is not None else ctx.actor_id,
        "actor_username": actor.get_username() if actor is not None else ctx.actor_username,
        "ip_address": ctx.ip_address,
        "terminal": ctx.terminal,
        "request_id": ctx.request_id,
        "route": ctx.route,
        "action": str(action),
        "outcome": str(outcome),
        "purpose": purpose,
        "object_type": object_type,
        "subjects": sorted({int(s) for s in subjects}),
        "criteria": _plain(criteria or {}),
        "result_count": result_count,
        "detail": _plain(detail or {}),
    }


def _append_event(values: dict) -> AuditEvent:
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        values = {**values, "id": head.last_id + 1, "prev_hash": head.last_hash}
        values["hash"] = event_hash(values)
        event = AuditEvent(**values)
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(last_id=event.id, last_hash=event.hash)
    return event


def record_many(entries: list[dict]) -> int:
    """Append several events (``event_values`` dicts) in their order, under one lock of the chain head.

    The chain is the one that many ``record()`` calls would write: consecutive ids, each event linked
    to the one before by its hash, the head moved to the last. One INSERT for all of them instead of
    three statements each; nothing already written is touched (append-only as ever).
    """
    if not entries:
        return 0
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        last_id, last_hash = head.last_id, head.last_hash
        rows = []
        for entry in entries:
            values = {**entry, "id": last_id + 1, "prev_hash": last_hash}
            values["hash"] = event_hash(values)
            rows.append(values)
            last_id, last_hash = values["id"], values["hash"]
        _insert_events(rows)
        AuditChainHead.objects.filter(pk=1).update(last_id=last_id, last_hash=last_hash)
    return len(rows)


def _insert_events(rows: list[dict]) -> None:
    """Insert the chained rows at once: COPY on PostgreSQL, one prepared INSERT run for all on SQLite."""
    fields = AuditEvent._meta.concrete_fields
    # Text and numbers go as they are (what get_db_prep_save returns for them); dates and JSON through it.
    plain = (models.CharField, models.IntegerField, models.ForeignKey)
    prepare = [(f.attname, None if isinstance(f, plain) else f.get_db_prep_save) for f in fields]
    params = [
        [row[name] if save is None else save(row[name], connection) for name, save in prepare] for row in rows
    ]
    copy_or_insert(connection, AuditEvent._meta.db_table, [f.column for f in fields], params)


@dataclass
class VerifyResult:
    ok: bool
    count: int
    broken_at: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"ok {self.count} events"
        return f"broken at event {self.broken_at}: {self.reason}"


def _stored_values(event: AuditEvent) -> dict:
    return {name: getattr(event, name) for name in _FIELDS} | {"hash": event.hash}


def iter_events(chunk_size: int = 5000) -> Iterator[AuditEvent]:
    """Events in chain order, read in keyset pages so memory stays flat on a long log."""
    last = 0
    while True:
        page = list(AuditEvent.objects.filter(id__gt=last).order_by("id")[:chunk_size])
        if not page:
            return
        yield from page
        last = page[-1].id


def verify_chain(progress=None) -> VerifyResult:
    """Walk the whole chain; report the first event whose hash, link or number is wrong."""
    expected_prev, expected_id, count = GENESIS_HASH, 1, 0
    for event in iter_events():
        values = _stored_values(event)
        if event.id != expected_id:
            return VerifyResult(
                False, count, expected_id, f"event {expected_id} is missing (next is {event.id})"
            )
        if event.prev_hash != expected_prev:
            return VerifyResult(False, count, event.id, "its link to the previous event does not match")
        if event_hash(values) != event.hash:
            return VerifyResult(False, count, event.id, "its content does not match its hash")
        expected_prev, expected_id, count = event.hash, event.id + 1, count + 1
        if progress is not None:
            progress(1)
    head = AuditChainHead.objects.get(pk=1)
    if head.last_id != count or (count and head.last_hash != expected_prev):
        return VerifyResult(
            False, count, count + 1, f"the chain head says {head.last_id} events, the log has {count}"
        )
    return VerifyResult(True, count)
