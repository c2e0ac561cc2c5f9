"""API keys for partners: shown once at creation, stored only as a hash, scoped and rate-limited.

A key looks like ``sdg_<prefix>_<secret>``. The prefix identifies the key (and is shown in the
admin); only the SHA-256 of the whole key is stored. The secret carries 256 random bits, so a
fast hash is enough: there is nothing to brute-force that would not take longer than the key's
life, and verification stays cheap on every request.
"""

import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models, router
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEY_PATTERN = re.compile(r"^sdg_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
RATE_PATTERN = re.compile(r"^[1-9][0-9]{0,6}/(second|minute|hour|day)$")


def validate_rate(value: str) -> None:
    if not RATE_PATTERN.match(value):
        raise ValidationError(
            _("Write a rate as a number of requests per second, minute, hour or day, e.g. 1000/hour."),
            code="invalid",
        )


ORIGIN_PATTERN = re.compile(r"^https?://[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?$")
MAX_ORIGINS = 20


def origins_of(text: str) -> list[str]:
    """The origins written one a line (blank lines ignored), as browsers send them."""
    return [line.strip().lower().rstrip("/") for line in (text or "").splitlines() if line.strip()]


def validate_origins(value: str) -> None:
    origins = origins_of(value)
    bad = [origin for origin in origins if not ORIGIN_PATTERN.match(origin)]
    if bad:
        raise ValidationError(
            _(
                "%(origins)s: write each origin as scheme and host (and port), e.g. https://dashboard.example.org."
            )
            % {"origins": ", ".join(bad[:3])[:300]},
            code="invalid",
        )
    if len(origins) > MAX_ORIGINS:
        raise ValidationError(_("At most %(count)d origins.") % {"count": MAX_ORIGINS}, code="max_length")


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    class Scope(models.TextChoices):
        READ = "read", _("read: published data")
        WRITE = "write", _("write: create and update projects and ratings (drafts)")

    name = models.CharField(
        _("name"), max_length=100, help_text=_("Who the key is for, e.g. the partner's name.")
    )
    prefix = models.CharField(_("key prefix"), max_length=12, unique=True, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, editable=False)
    scope = models.CharField(_("scope"), max_length=5, choices=Scope.choices, default=Scope.READ)
    throttle_rate = models.CharField(
        _("rate limit"),
        max_length=20,
        default="1000/hour",
        validators=[validate_rate],
        help_text=_("Requests allowed per second, minute, hour or day, e.g. 1000/hour."),
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    allowed_origins = models.TextField(
        _("browser origins"),
        blank=True,
        default="",
        max_length=2000,
        validators=[validate_origins],
        help_text=_(
            "Web pages that may use this key from a browser (CORS), one origin a line, e.g. "
            "https://dashboard.example.org. Empty: the key is refused from any other site's pages."
        ),
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("created by"),
    )
    # Whose key it is: its writes are this user's changes, attributed to them in the log.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="api_keys",
        verbose_name=_("owner"),
        help_text=_("The staff member the key acts for: its writes are recorded as theirs."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=["read", "write"]), name="apikey_scope_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (sdg_{self.prefix}_…)"

    def allows_origin(self, origin: str) -> bool:
        return origin.lower().rstrip("/") in origins_of(self.allowed_origins)

    @classmethod
    def issue(
        cls, *, name: str, owner, scope: str = Scope.READ, created_by=None, **fields
    ) -> tuple["ApiKey", str]:
        """Create a key for ``owner`` (an active staff user, whose changes its writes are);
        returns it with the full key string, which is never stored."""
        if owner is None or not getattr(owner, "pk", None):
            raise ValidationError({"owner": _("A key needs an owner: the staff member it acts for.")})
        if not (owner.is_active and owner.is_staff):
            raise ValidationError({"owner": _("The owner must be an active staff member.")})
        fields["owner"] = owner
        prefix = secrets.token_hex(6)
        key = f"sdg_{prefix}_{secrets.token_urlsafe(32)}"
        api_key = cls(
            name=name, scope=scope, prefix=prefix, key_hash=key_digest(key), created_by=created_by, **fields
        )
        api_key.full_clean()
        api_key.save()
        return api_key, key

    @classmethod
    def find(cls, key: str) -> "ApiKey | None":
        """The usable key matching ``key``, compared in constant time; None for any failure."""
        match = KEY_PATTERN.match(key)
        candidate = cls._by_prefix(match.group(1)) if match else None
        if candidate is not None and not candidate.is_usable:
            candidate = None
        # Compare even when nothing was found, so timing does not tell which part was wrong.
        stored = candidate.key_hash if candidate else "0" * 64
        if hmac.compare_digest(stored, key_digest(key)) and candidate is not None:
            return candidate
        return None

    @classmethod
    def _by_prefix(cls, prefix: str) -> "ApiKey | None":
        """The key with this prefix. Every API request with a key makes this read: as plain SQL
        it costs a fifth of what building the same query with the ORM does."""
        quote = connections[router.db_for_read(cls)].ops.quote_name
        table, column = quote(cls._meta.db_table), quote(cls._meta.get_field("prefix").column)
        return next(iter(cls.objects.raw(f"SELECT * FROM {table} WHERE {column} = %s", [prefix])), None)  # noqa: S608 -- names from the model, the value a parameter

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
