"""The people tests act as: every change to the record has an actor (projects.actors).

Tests change the record the way a shell user would, as ``tester`` (an analyst); publications need
a second person, ``test-reviewer``, so four eyes hold in the tests as everywhere else."""

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from projects import actors


def staff_user(username: str, *, groups=(), publish: bool = False):
    """The active staff user of that name, made when missing (no usable password)."""
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True})
    if created:
        user.set_unusable_password()
        user.save()
    for name in groups:
        group = Group.objects.filter(name=name).first()
        if group is not None:
            user.groups.add(group)
    if publish and not user.user_permissions.filter(codename="publish_project").exists():
        user.user_permissions.add(Permission.objects.get(codename="publish_project"))
    return user


def tester():
    """The default actor of the tests' changes."""
    return staff_user("tester")


def reviewer_user():
    """A second person, who may publish what ``tester`` changed."""
    return staff_user("test-reviewer", publish=True)


@contextmanager
def as_reviewer(channel: str = actors.Channel.SHELL):
    with actors.acting(reviewer_user(), channel) as actor:
        yield actor


def publish_as_reviewer(**kwargs):
    """project_publish(**kwargs) by the test reviewer."""
    from projects.services.publication import project_publish

    with as_reviewer():
        return project_publish(**kwargs)


def withdraw_as_reviewer(**kwargs):
    from projects.services.publication import project_withdraw

    with as_reviewer():
        return project_withdraw(**kwargs)


def key_owner():
    """The staff member the tests' API keys act for."""
    return staff_user("key-owner")


def administrator_user():
    """An administrator who did not draft the tests' method versions: releases them."""
    user = staff_user("test-administrator")
    user.user_permissions.add(Permission.objects.get(codename="publish_methodology"))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


@contextmanager
def as_administrator(channel: str = actors.Channel.SHELL):
    with actors.acting(administrator_user(), channel) as actor:
        yield actor


def release_as_administrator(**kwargs):
    """methodology_publish(**kwargs) by an administrator who did not draft the version."""
    from projects.services.methodology import methodology_publish

    with as_administrator():
        return methodology_publish(**kwargs)


def member(name: str, group: str | None = None, *, password: str | None = None, **flags):
    """A new staff user in the role ``group`` (analyst, reviewer, administrator), who logs in with
    ``password`` (by default "pw-" and the name)."""
    user = get_user_model().objects.create_user(
        name, password=password or f"pw-{name}", is_staff=True, **flags
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user
