"""python manage.py export_projects [-o FILE] [--published-only | --with-history]"""

import os
import sys
import tempfile

from django.core.management.base import BaseCommand, CommandError

from projects.interchange.exporter import projects_export


class Command(BaseCommand):
    help = "Export projects, their working ratings and score cards as an interchange file."

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--published-only",
            action="store_true",
            help="what the public sees: published projects as last published (ratings and cards)",
        )
        group.add_argument(
            "--with-history",
            action="store_true",
            help="add each project's score cards and publications (a backup: importing it into an empty "
            "database restores them)",
        )

    def handle(self, *args, output, published_only, with_history, **options):
        pieces = projects_export(published_only=published_only, history=with_history)
        if not output:
            for piece in pieces:
                sys.stdout.write(piece)
            return
        # Write beside the target and rename, so a failed export never leaves half a file.
        directory = os.path.dirname(os.path.abspath(output))
        try:
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, delete=False) as handle:
                for piece in pieces:
                    handle.write(piece)
            os.replace(handle.name, output)
        except OSError as exc:
            raise CommandError(f"{output}: cannot write ({exc.strerror}).") from None
        self.stderr.write(f"Wrote {output}.")
