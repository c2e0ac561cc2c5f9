"""python manage.py dev_admin: a local administrator account for `make run`, and how to log in.

Only with DEBUG on. The password is generated once and kept in a git-ignored file, so every
`make run` can print it again.
"""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

PASSWORD_FILE = Path(settings.BASE_DIR) / ".dev-admin-password"
USERNAME = "admin"


class Command(BaseCommand):
    help = "Create (once) a local superuser for development and print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/")

    def handle(self, *args, url, **options):
        if not settings.DEBUG:
            raise CommandError("dev_admin is for local development only (DEBUG is off).")
        users = get_user_model().objects
        password = PASSWORD_FILE.read_text().strip() if PASSWORD_FILE.exists() else ""
        user = users.filter(username=USERNAME).first()
        if user is None or not password or not user.check_password(password):
            password = secrets.token_urlsafe(12)
            if user is None:
                user = users.create_superuser(USERNAME, email="", password=password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            PASSWORD_FILE.write_text(password + "\n")
            PASSWORD_FILE.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(f"\nAdmin: {url}  user: {USERNAME}  password: {password}\n")
            + f"(kept in {PASSWORD_FILE.name}; delete the file to get a new one)\n"
        )
