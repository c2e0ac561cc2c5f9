"""python manage.py issue_api_key NAME --owner USER [--scope read|write] [--rate 1000/hour] [--days N]

The command-line twin of the admin's "add API key": prints the key once; only its hash is kept.
The owner is the staff member the key acts for: the key's writes are recorded as theirs.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from projects.models import ApiKey


class Command(BaseCommand):
    help = "Issue an API key and print it (it is stored only as a hash and cannot be shown again)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="who the key is for")
        parser.add_argument("--owner", required=True, help="user name of the staff member the key acts for")
        parser.add_argument("--scope", choices=["read", "write"], default="read")
        parser.add_argument("--rate", default="1000/hour", help="requests per second/minute/hour/day")
        parser.add_argument("--days", type=int, help="expire after this many days")

    def handle(self, *args, name, owner, scope, rate, days, **options):
        expires_at = timezone.now() + timedelta(days=days) if days else None
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"owner: no user named {owner!r}.")
        try:
            _, key = ApiKey.issue(
                name=name, owner=user, scope=scope, throttle_rate=rate, expires_at=expires_at
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
            )
            raise CommandError(problems) from None
        self.stdout.write(key)
