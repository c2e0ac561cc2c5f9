"""python manage.py webhook_secrets_reseal

After rotating SECRET_KEY (the old key kept in SECRET_KEY_FALLBACKS): seal every webhook signing
secret again under the new key, so that the old key can then leave SECRET_KEY_FALLBACKS.
"""

from django.core.management.base import BaseCommand, CommandError

from projects.services.webhooks import secrets_reseal


class Command(BaseCommand):
    help = "Seal every webhook signing secret again under the current SECRET_KEY (after rotating it)."

    def handle(self, *args, **options):
        done, unopened = secrets_reseal()
        self.stdout.write(f"{done} subscriptions' secrets sealed under the current SECRET_KEY.")
        if unopened:
            raise CommandError(
                f"{len(unopened)} subscriptions' secrets open with neither SECRET_KEY nor its fallbacks "
                f"(ids {', '.join(map(str, unopened[:20]))}): rotate their secrets (API or admin)."
            )
