"""Who is acting, from where, and why: set per request by the middleware and per job by `acting_as`.

Jobs and commands run under an explicit context too, so nothing that touches personal data goes
unlogged for want of a request.
"""

import contextvars
import socket
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class AuditContext:
    actor_id: int | None = None
    actor_username: str = ""
    ip_address: str = ""
    terminal: str = ""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    route: str = ""


_current: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar("sesshu_audit", default=None)


def current() -> AuditContext:
    return _current.get() or AuditContext(terminal=f"cli:{socket.gethostname()}")


def set_context(ctx: AuditContext | None) -> contextvars.Token:
    return _current.set(ctx)


def reset_context(token: contextvars.Token) -> None:
    _current.reset(token)


def update_context(**changes) -> None:
    ctx = _current.get()
    if ctx is not None:
        _current.set(replace(ctx, **changes))


@contextmanager
def acting_as(user=None, *, username: str = "", route: str = ""):
    """Run a command or job as a named operator: `with acting_as(user, route="cli:seed"): ...`"""
    ctx = AuditContext(
        actor_id=getattr(user, "pk", None),
        actor_username=getattr(user, "username", "") or username or "system",
        terminal=f"cli:{socket.gethostname()}",
        route=route,
    )
    token = set_context(ctx)
    try:
        yield ctx
    finally:
        reset_context(token)
