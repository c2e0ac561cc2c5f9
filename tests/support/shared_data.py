"""Data built once for a group of tests (a module or a class) instead of once per test.

It is written in a transaction opened before the group's first test and rolled back after its
last: each test runs in a savepoint inside it (pytest-django's ``db``), so a test's own changes,
emptying the database included, are undone before the next one, and nothing outlives the group.
Use it only where every test of the group asks for the data (as a class-scoped fixture for a
class, or module-scoped where every test of the module takes it): a test of the group that does
not ask for it would still see it.
"""

import contextlib

from django.db import transaction

from projects import actors
from tests.support.actors import tester


@contextlib.contextmanager
def built_once(django_db_blocker, build):
    """Run ``build()`` (as the test actor) in a transaction kept open for the group's tests."""
    with django_db_blocker.unblock(), transaction.atomic():
        with actors.acting(tester(), actors.Channel.SHELL):
            result = build()
        yield result
        transaction.set_rollback(True)
