"""All settings, read from the environment (see .env.example).

The defaults are the production ones: with no environment at all the service refuses to start
without a SECRET_KEY, serves HTTPS only and sets secure cookies. `make run` switches DEBUG on for
a local server; nothing else needs to change between a laptop and production.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example)")
    SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production-0123456789"  # noqa: S105 (DEBUG only)
elif not DEBUG and (
    # What `check --deploy` warns about (security.W009), refused outright: a guessable key lets
    # anyone sign sessions, password-reset links and CSRF tokens.
    len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH
    or len(set(SECRET_KEY)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
    or SECRET_KEY.startswith(SECRET_KEY_INSECURE_PREFIX)
):
    raise ImproperlyConfigured(
        f"SECRET_KEY is too weak for production (DEBUG off): it needs at least {SECRET_KEY_MIN_LENGTH} "
        f"characters, at least {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different ones, and must not start with "
        f"{SECRET_KEY_INSECURE_PREFIX!r}. Generate one with "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

# Earlier keys, whitespace-separated, kept while signed values (sessions, links) and sealed
# webhook secrets (projects.webhooks.sealed) move to the new SECRET_KEY after a rotation.
SECRET_KEY_FALLBACKS = os.environ.get("SECRET_KEY_FALLBACKS", "").split()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "projects.apps.SdgscoreAdminConfig",  # django.contrib.admin, on a site with a second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "corsheaders",
    "projects.apps.LockoutsConfig",  # axes
    "django_otp",
    "projects.apps.AuthenticatorsConfig",  # django_otp.plugins.otp_totp
    "django_otp.plugins.otp_static",  # recovery codes
    "django_tasks",
    "projects.apps.BackgroundTasksConfig",  # django_tasks_db
    "projects",
    "auditlog",  # after projects, whose templates restyle auditlog's history page for the CSP
]

MIDDLEWARE = [
    # Outermost: compresses what carries no secret (BREACH-safe), with ETags of its own.
    "projects.compression.CompressionMiddleware",
    # CORS for the API and the badge: who may read from a browser is projects/api/cors.py's call.
    "corsheaders.middleware.CorsMiddleware",
    "projects.middleware.ResponseHeadersMiddleware",  # outermost: Permissions-Policy on every response
    "django.middleware.security.SecurityMiddleware",
    "projects.redirects.FormerSlugMiddleware",  # a renamed project's old addresses redirect
    "projects.middleware.ContentSecurityPolicyMiddleware",  # django-csp's, the policy built once
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the request: no API keys in the query string, chunked bodies read.
    "projects.middleware.RequestChecksMiddleware",
    # Repeated public API reads answered before sessions, locales and DRF (projects/api/cache.py).
    "projects.api.cache.ApiReadCacheMiddleware",
    "projects.web.caching.PageCacheMiddleware",  # and repeated visits to public pages
    # Sessions, sign-in, messages and the audit context: Django's and the packages' own, skipped
    # for public reads (GET/HEAD under /api/, /en/, /ja/), which none of them serves
    # (projects.middleware.PublicReadsSkip). The admin and every write go through all of them.
    "projects.middleware.SessionMiddleware",
    "projects.middleware.LocaleMiddleware",  # Django's; the API always in English
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "projects.middleware.AuthenticationMiddleware",
    "projects.middleware.OTPMiddleware",
    "projects.actors.AdminActorMiddleware",  # admin changes are the signed-in user's
    "projects.middleware.SessionTimeoutMiddleware",  # signed-in sessions end when idle
    "projects.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "projects.middleware.AuditlogMiddleware",  # records who made each change
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out logins before any check
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "sdgscore.urls"
WSGI_APPLICATION = "sdgscore.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # projects/templates ahead of every app's, so that it can override the admin's own
        # templates (admin/base_site.html: the language selector), which come first otherwise.
        "DIRS": [BASE_DIR / "templates", BASE_DIR / "projects" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# An SQLite file in the checkout by default (ignored by git); PostgreSQL in production.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Writers queue for the lock at BEGIN instead of failing half-way (rescoring workers and web
    # requests write at once); WAL lets readers go on while one writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("SQLITE_TIMEOUT", 20),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
if DATABASES["default"]["ENGINE"].endswith("postgresql") and env_bool("DB_POOL", True):
    # A pool of connections per process (Django's, on psycopg_pool), instead of a connection kept
    # per thread: taking a pooled connection costs no new session and no SET commands. Pooling
    # needs CONN_MAX_AGE 0; DB_CONN_HEALTH_CHECKS has the pool check a connection before lending
    # it. Sizes per process; each gunicorn sync worker needs one connection at a time. DB_POOL=0
    # keeps one connection per thread for DB_CONN_MAX_AGE seconds instead (behind PgBouncer).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 1),
        "max_size": env_int("DB_POOL_MAX_SIZE", 4),
    }
    import projects.pooling  # noqa: E402, F401 -- closes the pools before a fork (rescore --jobs)
# Read replicas (optional): API reads by clients who see published data only are read from one
# of them (projects/routing.py); everything else uses the primary. Comma-separated URLs.
for _number, _url in enumerate(filter(None, os.environ.get("DATABASE_REPLICA_URLS", "").split(",")), 1):
    DATABASES[f"replica{_number}"] = dj_database_url.parse(
        _url.strip(),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
    )
    DATABASES[f"replica{_number}"]["TEST"] = {"MIRROR": "default"}  # tests read the primary
DATABASE_ROUTERS = ["projects.routing.ReadReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background jobs (rescoring under a new method): stored in the database, run by
# `manage.py db_worker` (several at once are safe on PostgreSQL).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND") or "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
RESCORE_CHUNK = env_int("RESCORE_CHUNK", 2000)
# Uncertainty figures (method §8) are recomputed by a task this many seconds after a publication,
# so that a burst of publications is one run (projects.services.uncertainty).
UNCERTAINTY_DELAY = env_int("UNCERTAINTY_DELAY", 10)
# A run whose worker shows no sign of life for UNCERTAINTY_LEASE seconds fails, and another is queued.
UNCERTAINTY_LEASE = env_int("UNCERTAINTY_LEASE", 60)
# A chunk whose worker shows no sign of life for RESCORE_LEASE seconds is run again, at most
# RESCORE_ATTEMPTS times (see docs/deploy.md, "Workers").
RESCORE_LEASE = env_int("RESCORE_LEASE", 60)
RESCORE_ATTEMPTS = env_int("RESCORE_ATTEMPTS", 3)
# Webhooks (projects.webhooks): endpoints on loopback, private, link-local or metadata addresses
# are refused unless WEBHOOK_ALLOW_PRIVATE (tests, a closed network); plain http is refused
# unless WEBHOOK_ALLOW_HTTP (on with DEBUG). After a secret's rotation the old one also signs for
# WEBHOOK_ROTATION_GRACE_HOURS.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", DEBUG)
WEBHOOK_ROTATION_GRACE_HOURS = env_int("WEBHOOK_ROTATION_GRACE_HOURS", 24)
# A worker claims a delivery for WEBHOOK_LEASE seconds (more than a POST's 10 s); when it dies
# inside, another sends it again once the lease has run out.
WEBHOOK_LEASE = env_int("WEBHOOK_LEASE", 30)
# The first retry of a failed delivery waits up to WEBHOOK_RETRY_BASE seconds, each next one up to
# twice as long (at most 4 h; given up a day after the first try). Proofs shorten it.
WEBHOOK_RETRY_BASE = env_int("WEBHOOK_RETRY_BASE", 30)
# Server-side cache of public pages and API reads, keyed on the site generation (see
# projects/freshness.py); 0 turns it off (bench/http.py's "uncached" runs).
RESPONSE_CACHE = env_bool("RESPONSE_CACHE", True)
BENCH_FLOOR = env_bool("BENCH_FLOOR", False)  # /bench/floor, the constant view bench/http.py measures

REDIS_URL = os.environ.get("REDIS_URL") or ""
if REDIS_URL:
    CACHES = {
        "default": {
            # RedisCache where Redis unreachable means uncached, not 500 (projects/cache_backend.py).
            "BACKEND": "projects.cache_backend.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "sdgscore",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ja", _("Japanese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["sdgscore.formats"]  # dates as each language writes them
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Request bodies are bounded; the import command has its own limit (IMPORT_MAX_BYTES).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 50 * 1024 * 1024)

# HTTPS and cookie hardening; a TLS-terminating proxy must set X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8  # a working day, however busy (projects.middleware)
SESSION_IDLE_TIMEOUT = 60 * 30  # and half an hour without a request ends it sooner
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"

# Content-Security-Policy (django-csp): no inline script or style anywhere, nothing from other
# hosts, no framing — except the badge, whose view allows any embedder.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Admin logins (django-axes): after AXES_FAILURE_LIMIT failures for one user name from one
# address, that pair is locked out for AXES_COOLOFF_TIME; the lockout answers 429.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env_int("NUM_PROXIES", 0)
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# The lockout page in the admin's look, saying when to retry and whom to ask (administrators
# unlock under Access attempts); a second-factor code is never kept in the attempts' form data.
AXES_LOCKOUT_CALLABLE = "projects.admin.refusals.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]

# Audit trail (django-auditlog): every change to the registered models, field by field, with
# who made it; models are registered in projects/audit.py.
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False

# Second factor for staff (django-otp; projects/admin_site.py): with OTP_REQUIRED on, reviewers,
# administrators and superusers cannot use the admin until they have set one up; anyone who has
# one gives its code at every login. Device admins never show a key, not even to superusers.
OTP_REQUIRED = env_bool("OTP_REQUIRED", not DEBUG)
OTP_TOTP_ISSUER = "sdgscore"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["projects.api.parsers.SafeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["projects.api.parsers.SafeJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["projects.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["projects.api.permissions.ReadOrWriteScope"],
    "DEFAULT_THROTTLE_CLASSES": ["projects.api.throttling.PartnerRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "projects.api.schema.ProblemAwareAutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
    "EXCEPTION_HANDLER": "projects.api.errors.problem_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_METADATA_CLASS": None,  # OPTIONS answers 405: the schema describes the API
    # Proxies in front of the service that append to X-Forwarded-For; 0 trusts no such header,
    # so a client cannot pick its own address to dodge the anonymous rate limit.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}
# Requests per period for clients without a key; each key carries its own rate.
API_ANONYMOUS_RATE = os.environ.get("API_ANONYMOUS_RATE") or "120/minute"

# CORS (django-cors-headers): for the API and the badge only; which origin may read what is
# decided per request by projects.api.cors (public reads from anywhere, keyed requests from the
# origins listed on the key). No credentials: keys travel in the Authorization header.
CORS_URLS_REGEX = r"^/(api/v1/|(en|ja)/projects/[-a-zA-Z0-9_]+/badge\.svg$)"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "if-match",
    "if-none-match",
    "if-modified-since",
]
CORS_EXPOSE_HEADERS = [
    "ETag",
    "Last-Modified",
    "Location",
    "Retry-After",
    "Content-Disposition",
    "Content-Language",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
]
CORS_PREFLIGHT_MAX_AGE = 86400

SPECTACULAR_SETTINGS = {
    "TITLE": "sdgscore partner API",
    "DESCRIPTION": (
        "Ratings of space-resource projects on SDGs 7, 9 and 12 and on debris and equity risks, "
        "computed under a published, versioned method. Read without a key (published data, lower "
        "rate) or with an API key (`Authorization: Bearer sdg_…`); write-scope keys create and "
        "update draft projects and ratings. Errors are RFC 9457 problem documents."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        name + "Enum": f"projects.vocabularies.{name}"
        for name in [
            "Grade",
            "RiskLevel",
            "EvidenceGrade",
            "OperatorKind",
            "TargetBody",
            "Resource",
            "Phase",
            "Origin",
            "PublicationState",
            "ScoreStatus",
            "Confidence",
        ]
    }
    | {
        "WebhookEventTypeEnum": "projects.models.webhooks.EVENT_TYPES",
        "DeliveryStateEnum": "projects.models.webhooks.WebhookDelivery.State",
        "AttemptOutcomeEnum": "projects.models.webhooks.WebhookAttempt.Outcome",
    },
    # No deep links: Swagger UI puts them inside each operation's button (a link in a button is
    # unreachable by keyboard and confuses screen readers; axe: nested-interactive).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "projects.api.schema.add_common_responses",
        "projects.api.schema.agree_with_the_server",
    ],
}

LOG_LEVEL = os.environ.get("LOG_LEVEL") or "INFO"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The handler's level filters Django's own loggers too (they propagate to the root).
    "handlers": {"console": {"class": "logging.StreamHandler", "level": LOG_LEVEL}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
