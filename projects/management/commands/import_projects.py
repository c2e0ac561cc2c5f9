"""python manage.py import_projects FILE [--publish --note WHY] [--user NAME]

Without --publish only the working ratings change: the public keeps seeing the last publication
until a reviewer publishes (or the import is run with --publish and a note)."""

import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from projects.interchange.importer import InterchangeError, projects_import

MAX_ERRORS_SHOWN = 100


def read_interchange_file(path: str) -> object:
    """Read and parse a file, refusing oversized or malformed input with a clear message."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(settings.IMPORT_MAX_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"{path}: cannot read the file ({exc.strerror}).") from None
    if len(raw) > settings.IMPORT_MAX_BYTES:
        raise CommandError(
            f"{path}: larger than the limit of {settings.IMPORT_MAX_BYTES} bytes (IMPORT_MAX_BYTES)."
        )
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path}: not UTF-8 text (byte {exc.start}).") from None
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    except RecursionError:
        raise CommandError(f"{path}: nested too deeply to be an interchange file.") from None
    except ValueError as exc:  # e.g. a number too long for Python to read
        raise CommandError(f"{path}: not readable as JSON: {exc}.") from None


class Command(BaseCommand):
    help = "Import projects from an interchange file (sdgscore.projects/1), upserting by slug."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the JSON file")
        parser.add_argument(
            "--publish",
            action="store_true",
            help="publish every imported project whose ratings or card changed (needs --note)",
        )
        parser.add_argument("--note", default="", help="why this is published (required with --publish)")
        parser.add_argument("--user", help="username recorded as the assessor of changed ratings")

    def handle(self, *args, file, publish, note, user, **options):
        if publish and not note.strip():
            raise CommandError("--note: say why these projects are published; --publish needs a note.")
        assessor = None
        if user:
            assessor = get_user_model().objects.filter(username=user).first()
            if assessor is None:
                raise CommandError(f"--user: no user named {user!r}.")
        data = read_interchange_file(file)
        try:
            result = projects_import(data, publish=publish, note=note, user=assessor)
        except InterchangeError as exc:
            shown = exc.errors[:MAX_ERRORS_SHOWN]
            more = len(exc.errors) - len(shown)
            lines = shown + ([f"… and {more} more."] if more > 0 else [])
            raise CommandError(
                f"{file}: nothing was imported; {len(exc.errors)} problem(s):\n  " + "\n  ".join(lines)
            ) from None
        self.stdout.write(
            f"{len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged, {len(result.published)} published."
        )
