"""python manage.py restore_backup FILE --user NAME

Restores an export made with ``export_projects --with-history`` into a database without projects:
facts, ratings, every score card and publication exactly as they were, with the reviewers' names
even where their accounts do not exist here. For administrators (--user); plain imports refuse
history."""

from django.core.management.base import BaseCommand

from projects.interchange.importer import InterchangeError, backup_restore

from .import_projects import read_interchange_file, refusal, staff_user_named


class Command(BaseCommand):
    help = "Restore a backup (an export --with-history) into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the JSON file")
        parser.add_argument("--user", required=True, help="user name of the administrator restoring it")

    def handle(self, *args, file, user, **options):
        administrator = staff_user_named(user, option="--user")
        data = read_interchange_file(file)
        try:
            result = backup_restore(data, user=administrator)
        except InterchangeError as exc:
            raise refusal(file, exc, "restored") from None
        self.stdout.write(
            f"{len(result.created)} projects restored, {len(result.restored)} with their history."
        )
