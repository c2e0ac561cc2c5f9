"""Who is changing the record, and through which door.

Every change to a project, its ratings or an operator is made by a person (a staff user, or the
owner of the API key used) through a channel (admin, api, import, task, shell). Each channel
states its actor once, at its entrance, with ``acting(...)``; the models refuse to save without
one (see ``required``), so a path that forgets is an error, never an unattributed change. The
editorial log (``projects.models.Change``) and django-auditlog both read the actor from here.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from auditlog.context import set_actor
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    ADMIN = "admin", _("admin")
    API = "api", _("API")
    IMPORT = "import", _("import")
    TASK = "task", _("task")
    SHELL = "shell", _("shell")


@dataclass(frozen=True)
class Actor:
    user: object  # a saved django.contrib.auth user
    channel: str
    api_key: object | None = None  # the ApiKey of an API write


class NoActor(Exception):
    """A change was attempted with no actor stated: nothing was written."""


_current: ContextVar[Actor | None] = ContextVar("sdgscore_actor", default=None)


@contextmanager
def acting(user, channel: str, *, api_key=None) -> Iterator[Actor]:
    """Within the block, changes are ``user``'s, made through ``channel``."""
    if user is None or not getattr(user, "pk", None):
        raise NoActor("A change needs a saved user as its actor.")
    if channel not in Channel.values:
        raise NoActor(f"Unknown channel {channel!r}; one of {', '.join(Channel.values)}.")
    actor = Actor(user=user, channel=channel, api_key=api_key)
    token = _current.set(actor)
    try:
        with set_actor(user):
            yield actor
    finally:
        _current.reset(token)


@contextmanager
def nobody() -> Iterator[None]:
    """Within the block no actor is stated (tests of the refusal use it)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> Actor | None:
    return _current.get()


def required(what: str = "change") -> Actor:
    """The actor of the change about to be made; NoActor when none was stated."""
    actor = _current.get()
    if actor is None:
        raise NoActor(
            f"No actor for this {what}: every change to the record is attributed. In a shell, "
            "wrap it in `with projects.actors.acting(user, 'shell'):`."
        )
    return actor


class AdminActorMiddleware:
    """Requests to the admin act as their signed-in staff user, through the admin channel."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/"):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and user.is_staff:
                with acting(user, Channel.ADMIN):
                    return self.get_response(request)
        return self.get_response(request)
