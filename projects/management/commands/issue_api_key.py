"""python manage.py issue_api_key NAME [--scope read|write] [--rate 1000/hour] [--days N]

The command-line twin of the admin's "add API key": prints the key once; only its hash is kept.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from projects.models import ApiKey


class Command(BaseCommand):
    help = "Issue an API key and print it (it is stored only as a hash and cannot be shown again)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="who the key is for")
        parser.add_argument("--scope", choices=["read", "write"], default="read")
        parser.add_argument("--rate", default="1000/hour", help="requests per second/minute/hour/day")
        parser.add_argument("--days", type=int, help="expire after this many days")

    def handle(self, *args, name, scope, rate, days, **options):
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            _, key = ApiKey.issue(name=name, scope=scope, throttle_rate=rate, expires_at=expires_at)
        except ValidationError as exc:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
            )
            raise CommandError(problems) from None
        self.stdout.write(key)
