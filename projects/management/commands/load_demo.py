"""python manage.py load_demo: the real missions with illustrative ratings, published."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from projects.interchange.importer import InterchangeError, projects_import

from .import_projects import read_interchange_file

DEMO_NOTE = "Demo data: real missions with illustrative ratings."
DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "demo_projects.json"


class Command(BaseCommand):
    help = "Load the demo projects (real missions, illustrative ratings) and publish them."

    def handle(self, *args, **options):
        try:
            result = projects_import(read_interchange_file(str(DEMO_FILE)), publish=True, note=DEMO_NOTE)
        except InterchangeError as exc:
            raise CommandError("The demo file is invalid:\n  " + "\n  ".join(exc.errors)) from None
        total = len(result.created) + len(result.updated) + len(result.unchanged)
        self.stdout.write(
            f"Demo data: {total} projects ({len(result.created)} new). "
            "Their ratings are illustrative, not real assessments."
        )
