"""python manage.py import_projects FILE --user NAME [--publish --reviewer NAME --note WHY]

Every change is attributed: --user names the staff member whose changes these are (channel
"import"). Without --publish only the working facts and ratings change: the public keeps seeing
the last publication until a reviewer publishes. --publish needs a note and a reviewer other than
the importer, under the same four-eyes rule as the admin. History is never imported here: a
backup is restored with restore_backup."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from projects.interchange.importer import InterchangeError, interchange_loads, projects_import, report_lines

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
        return interchange_loads(raw)
    except InterchangeError as exc:
        raise CommandError(f"{path}: {exc}") from None


def refusal(file: str, exc: InterchangeError, what: str) -> CommandError:
    """The command's error for a refused file: every problem, up to MAX_ERRORS_SHOWN of them."""
    shown = exc.errors[:MAX_ERRORS_SHOWN]
    more = len(exc.errors) - len(shown)
    lines = shown + ([f"… and {more} more."] if more > 0 else [])
    return CommandError(f"{file}: nothing was {what}; {len(exc.errors)} problem(s):\n  " + "\n  ".join(lines))


def staff_user_named(username: str, *, option: str):
    """The active staff user of that name (CommandError naming the option otherwise)."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"{option}: no user named {username!r}.")
    if not (user.is_active and user.is_staff):
        raise CommandError(f"{option}: {username!r} is not an active staff member.")
    return user


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
        parser.add_argument(
            "--user", required=True, help="user name of the staff member whose changes these are"
        )
        parser.add_argument("--reviewer", help="user name of the reviewer who publishes (with --publish)")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="import, report what changed project by project, and roll it all back: nothing is written",
        )

    def handle(self, *args, file, publish, note, user, reviewer, dry_run=False, **options):
        if publish and not note.strip():
            raise CommandError("--note: say why these projects are published; --publish needs a note.")
        importer = staff_user_named(user, option="--user")
        publisher = None
        if publish:
            if not reviewer:
                raise CommandError("--reviewer: --publish needs the reviewer who publishes.")
            publisher = staff_user_named(reviewer, option="--reviewer")
        elif reviewer:
            raise CommandError("--reviewer: only with --publish.")
        data = read_interchange_file(file)
        try:
            result = projects_import(
                data, user=importer, publish=publish, reviewer=publisher, note=note, dry_run=dry_run
            )
        except InterchangeError as exc:
            raise refusal(file, exc, "imported") from None
        if dry_run:
            self.stdout.write("\n".join(report_lines(result)))
            return
        self.stdout.write(
            f"{len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged, {len(result.published)} published."
        )
