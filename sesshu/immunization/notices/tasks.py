"""Extraction runs started on screen run in the background (django-tasks: `sesshu db_worker` with the
database backend; at once in tests). The run itself is resumable, so the task carries only ids."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django_tasks import task

from sesshu.audit.context import acting_as


@task()
def run_extraction(run_id: int, user_id: int | None) -> int:
    from ..extraction import run_batch

    # The worker has no request: its events name the clerk who started the run.
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    with acting_as(user, username="system", route="task:run_extraction"):
        return run_batch(run_id, resume=True).written


def enqueue_run(run, user) -> None:
    """Queue the run once the transaction that made it commits (the worker must see it)."""
    user_id = getattr(user, "pk", None)
    transaction.on_commit(lambda: run_extraction.enqueue(run.pk, user_id))
