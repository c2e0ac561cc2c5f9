"""python manage.py load_demo: the real missions with illustrative ratings, published.

Demo data is entered and published as any data is, by two different people: the accounts
``demo-analyst`` (who enters it, through the import channel) and ``demo-reviewer`` (who publishes
it). Both are made here, with no usable password: nobody can sign in as them."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from projects.interchange.importer import InterchangeError, projects_import
from projects.services.uncertainty import uncertainty_compute

from .import_projects import read_interchange_file

DEMO_NOTE = "Demo data: real missions with illustrative ratings."
DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "demo_projects.json"


def demo_account(username: str, group: str):
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=group))
    return user


class Command(BaseCommand):
    help = "Load the demo projects (real missions, illustrative ratings) and publish them."

    def handle(self, *args, **options):
        try:
            result = projects_import(
                read_interchange_file(str(DEMO_FILE)),
                user=demo_account("demo-analyst", "analyst"),
                publish=True,
                reviewer=demo_account("demo-reviewer", "reviewer"),
                note=DEMO_NOTE,
            )
        except InterchangeError as exc:
            raise CommandError("The demo file is invalid:\n  " + "\n  ".join(exc.errors)) from None
        # The figures now, for a site without a task worker (make run); a worker would compute
        # them too, from the run the publications queued.
        uncertainty_compute(reason="demo data")
        total = len(result.created) + len(result.updated) + len(result.unchanged)
        self.stdout.write(
            f"Demo data: {total} projects ({len(result.created)} new). "
            "Their ratings are illustrative, not real assessments."
        )
