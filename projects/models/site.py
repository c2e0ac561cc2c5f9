"""The site's generation: a counter that moves, in the same transaction, with every change the
public could see (a publication, a withdrawal, a project's facts, an operator, a method, a key).

Cached pages and API responses are keyed on it, so a change shows at once on every server and
worker; reading it is one primary-key query.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SiteState(models.Model):
    generation = models.BigIntegerField(_("generation"), default=0)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        verbose_name = _("site state")
        verbose_name_plural = _("site state")

    def __str__(self) -> str:
        return f"generation {self.generation} ({self.changed_at:%Y-%m-%d %H:%M:%S})"
