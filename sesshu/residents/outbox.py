"""The outbox's consumers (庁内連携 inside sesshu): each reads the events in order, exactly once.

Consumers are named in settings.SESSHU_REGISTER_CONSUMERS (name -> dotted path of a function taking
a list of RegisterEvent). Each one's progress is a ``ConsumerOffset`` row, locked while it works, so a
consumer run twice at once does the work once; the handler itself is idempotent too, so a crash
between its work and the offset update repeats nothing harmful.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from .models import ConsumerOffset, RegisterEvent

logger = logging.getLogger(__name__)
BATCH = 2000
CACHED_PAGES = 10  # 20,000 events held at most


def consumers() -> dict:
    return {name: import_string(path) for name, path in settings.SESSHU_REGISTER_CONSUMERS.items()}


def process_events(names: list[str] | None = None) -> dict[str, int]:
    """Feed every consumer the events it has not seen; returns how many each processed.

    The consumers run one after the other (the addressee first: the others look up its persons).
    Pages of events already read for one consumer are handed to the next from memory (up to
    ``CACHED_PAGES`` of them), so a batch of moves is read from the outbox once, not once per consumer.
    """
    done = {}
    pages = _Pages()
    for name, handler in consumers().items():
        if names and name not in names:
            continue
        done[name] = 0
        while True:
            with transaction.atomic():
                ConsumerOffset.objects.get_or_create(consumer=name)
                offset = ConsumerOffset.objects.select_for_update().get(consumer=name)
                batch = pages.after(offset.last_event_id)
                if not batch:
                    break
                handler(batch)
                offset.last_event_id = batch[-1].id
                offset.save(update_fields=["last_event_id", "updated_at"])
                done[name] += len(batch)
    return done


class _Pages:
    """Full pages of events read in this run, by the id they follow. Events are never changed."""

    def __init__(self) -> None:
        self.pages: dict[int, list[RegisterEvent]] = {}

    def after(self, last_event_id: int) -> list[RegisterEvent]:
        if last_event_id in self.pages:
            return self.pages[last_event_id]
        page = list(RegisterEvent.objects.filter(id__gt=last_event_id).order_by("id")[:BATCH])
        if len(page) == BATCH and len(self.pages) < CACHED_PAGES:  # a short page may grow: read again
            self.pages[last_event_id] = page
        return page


def process_after_commit() -> None:
    """Run the consumers once the current transaction commits; a consumer's failure is logged and
    retried by the next run (`sesshu register process-events`), never undoing the confirmed move."""

    def run():
        try:
            process_events()
        except Exception:
            logger.exception("register event consumers failed; they resume on the next run")

    transaction.on_commit(run)


def lag() -> dict[str, int]:
    """How many events each consumer has not processed yet (for the status page and monitoring)."""
    last = RegisterEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    offsets = dict(ConsumerOffset.objects.values_list("consumer", "last_event_id"))
    return {name: last - offsets.get(name, 0) for name in settings.SESSHU_REGISTER_CONSUMERS}
