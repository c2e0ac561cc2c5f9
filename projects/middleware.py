"""HTTP hardening that concerns every request: response headers, request bodies sent in chunks,
API keys in the query string, and idle admin sessions; and the session and sign-in middleware,
kept to the requests they serve (PublicReadsSkip)."""

from __future__ import annotations

import functools
import io
import re
import time
from urllib.parse import unquote_plus

from auditlog import middleware as _auditlog
from csp import middleware as csp_middleware
from csp.constants import HEADER as CSP_HEADER
from csp.constants import HEADER_REPORT_ONLY as CSP_HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth import middleware as _auth
from django.contrib.messages import middleware as _messages
from django.contrib.sessions import middleware as _sessions
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.wsgi import LimitedStream
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.middleware import locale as _locale
from django.utils import translation
from django_otp import middleware as _otp

# Browser features no page of the site uses, refused to it and to anything it might embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
)
PRIVATE = "private, no-store"


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


class ResponseHeadersMiddleware:
    """Outermost, so that every response has them, cached replays and redirects included.

    ``Permissions-Policy`` on every response. ``Cache-Control: private, no-store`` on every API
    response to a request with a write key (the only clients shown drafts), or with an
    Authorization header that did not turn out to be a read key (a refused key, or a request
    that ended before authentication): a shared cache must never keep them, and the client
    need not either. Who the client was is what projects.api.access decided for the request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if "HTTP_AUTHORIZATION" in request.META and _is_api(request):
            from projects.api import access

            if not access.read_only_client(request):
                response["Cache-Control"] = PRIVATE
        return response


# A key's shape (projects.models.api_keys.KEY_PATTERN), wherever it appears in a query string,
# and the names a client might try a key under.
KEY_IN_QUERY = re.compile(r"sdg_[0-9a-f]{12}_")
KEY_PARAMETERS = frozenset({"api_key", "apikey", "api-key", "key", "access_token", "token", "authorization"})
KEY_IN_QUERY_DETAIL = (
    "API keys are not accepted in the query string, where they are written to logs and browser "
    "history: send the key in the Authorization header (Authorization: Bearer sdg_…). Treat a key "
    "sent this way as exposed: have it revoked and a new one issued."
)


class RequestChecksMiddleware:
    """Before anything reads the request: refuse API keys in the query string, and read bodies
    sent with ``Transfer-Encoding: chunked``.

    A key in the query string is refused with a 400 that does not repeat it (the problem
    document's ``instance`` is the path alone), before a cache, a view or an error page could
    echo it back.

    A chunked body has no Content-Length, so Django reads it as empty. The server (gunicorn)
    decodes the chunks and marks its input as ending by itself (``wsgi.input_terminated``); the
    body is then read here, up to DATA_UPLOAD_MAX_MEMORY_SIZE (413 beyond), and handed on with
    its length, as if the client had sent one. A server that cannot say where the body ends
    (Django's runserver) gets 411 Length Required rather than an empty body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.META.get("QUERY_STRING") and self._key_in_query(request):
            return self._key_refused(request)
        refused = self._body_refused(request)
        if refused is not None:
            return refused
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and not request.META.get(
            "CONTENT_LENGTH"
        ):
            refused = self._read_chunked_body(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    @staticmethod
    def _key_in_query(request) -> bool:
        if KEY_IN_QUERY.search(unquote_plus(request.META["QUERY_STRING"])):
            return True
        return _is_api(request) and any(name.lower() in KEY_PARAMETERS for name in request.GET)

    @staticmethod
    def _key_refused(request):
        if _is_api(request):
            from projects.api.errors import PROBLEM_JSON, problem

            return JsonResponse(
                problem(400, KEY_IN_QUERY_DETAIL, instance=request.path, code="key_in_query"),
                status=400,
                content_type=PROBLEM_JSON,
            )
        return HttpResponseBadRequest(KEY_IN_QUERY_DETAIL, content_type="text/plain; charset=utf-8")

    @staticmethod
    def _body_refused(request):
        """413 for a body announced larger than DATA_UPLOAD_MAX_MEMORY_SIZE (a parser reading the
        stream itself would not check it), 415 for a compressed one (no view decodes it): before
        a byte of it is read."""
        from projects.views import bad_request, unsupported_encoding

        length = request.META.get("CONTENT_LENGTH") or ""
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length.isdigit() and int(length) > limit:
            return bad_request(request, RequestDataTooBig())
        encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if encoding and encoding != "identity":
            return unsupported_encoding(request, encoding)
        return None

    @staticmethod
    def _read_chunked_body(request):
        from projects.views import bad_request

        if not request.META.get("wsgi.input_terminated"):
            response = HttpResponse(
                "Send the body with a Content-Length.", status=411, content_type="text/plain; charset=utf-8"
            )
            if _is_api(request):
                from projects.api.errors import problem_response

                response = problem_response(request, 411, "Send the body with a Content-Length.")
            return response
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        stream = request.META["wsgi.input"]
        body = bytearray()
        while limit is None or len(body) <= limit:
            chunk = stream.read(64 * 1024 if limit is None else min(64 * 1024, limit + 1 - len(body)))
            if not chunk:
                break
            body += chunk
        if limit is not None and len(body) > limit:
            return bad_request(request, RequestDataTooBig())
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(bytes(body)), len(body))  # as WSGIRequest builds it
        return None


SEEN = "sdgscore_seen"  # when the session last made a request (seconds since the epoch)
STARTED = "sdgscore_started"  # when it was first seen signed in
SEEN_RESOLUTION = 60  # seconds: the session is written at most once a minute for this


class SessionTimeoutMiddleware:
    """Signed-in sessions (the admin's: the public site has none) end after SESSION_IDLE_TIMEOUT
    seconds without a request, and SESSION_COOKIE_AGE seconds after they began however busy.

    A middleware rather than SESSION_SAVE_EVERY_REQUEST with a short SESSION_COOKIE_AGE: that
    would write the session on every request, and an active session would never reach the
    working-day limit; here the session is written at most once a minute. The next request after
    either limit is signed out, and the admin asks for the login again.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            session, now = request.session, int(time.time())
            seen, started = session.get(SEEN), session.get(STARTED)
            if (seen is not None and now - seen > settings.SESSION_IDLE_TIMEOUT) or (
                started is not None and now - started > settings.SESSION_COOKIE_AGE
            ):
                logout(request)
            else:
                if started is None:
                    session[STARTED] = now
                if seen is None or now - seen >= SEEN_RESOLUTION:
                    session[SEEN] = now
        return self.get_response(request)


# ---------------------------------------------------------------------------------------------
# Sessions and sign-in where they serve


class PublicReadsSkip:
    """Mixin: the middleware is skipped for public reads, GET and HEAD requests under the API
    (/api/) or a language prefix (/en/, /ja/): published data, the same for everyone, which no
    session, signed-in user, message or audit context has any part in. Every other request (the
    admin, every write, the language switch) goes through it as before.

    Skipping is what keeps a public read from loading a session (a signed-in administrator's
    cookie would otherwise cost a session query, a user query and a ``Vary: Cookie``) and from
    any chance of writing one. CSRF protection and the axes middleware stay whole in MIDDLEWARE
    for every request: they cost a public read next to nothing.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        self.public_prefixes = ("/api/", *(f"/{code}/" for code, _name in settings.LANGUAGES))

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and request.path.startswith(self.public_prefixes):
            return self.get_response(request)
        return super().__call__(request)


class LocaleMiddleware(_locale.LocaleMiddleware):
    """Django's, except for the API, which speaks English whatever the Accept-Language: its
    field names, messages and data are English (Japanese texts are fields of their own,
    ``summary_ja``), so its Content-Language is ``en`` and its answers do not vary by language."""

    def process_request(self, request):
        if _is_api(request):
            translation.activate("en")
            request.LANGUAGE_CODE = "en"
            return None
        return super().process_request(request)

    def process_response(self, request, response):
        if _is_api(request):
            response.headers["Content-Language"] = "en"
            return response
        return super().process_response(request, response)


class SessionMiddleware(PublicReadsSkip, _sessions.SessionMiddleware):
    pass


class AuthenticationMiddleware(PublicReadsSkip, _auth.AuthenticationMiddleware):
    pass


class OTPMiddleware(PublicReadsSkip, _otp.OTPMiddleware):
    pass


class MessageMiddleware(PublicReadsSkip, _messages.MessageMiddleware):
    pass


class AuditlogMiddleware(PublicReadsSkip, _auditlog.AuditlogMiddleware):
    pass


# ---------------------------------------------------------------------------------------------
# Content-Security-Policy


_POLICY_ATTRIBUTES = tuple(
    f"_csp_{part}{suffix}" for part in ("config", "update", "replace") for suffix in ("", "_ro")
)


@functools.cache
def _site_policies() -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    """(header, policy, exemption attribute, excluded prefixes) of the enforced and the
    report-only policy, as django-csp builds them from the settings alone."""
    return tuple(
        (
            header,
            build_policy(report_only=report_only),
            "_csp_exempt_ro" if report_only else "_csp_exempt",
            tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()),
        )
        for header, setting, report_only in (
            (CSP_HEADER, "CONTENT_SECURITY_POLICY", False),
            (CSP_HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
        )
    )


@receiver(setting_changed)
def _policy_settings_changed(setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _site_policies.cache_clear()


class ContentSecurityPolicyMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's middleware, with the site's own policy built once per process.

    django-csp builds both headers from the settings on every response, a fifth of what a reply
    from the API's read cache costs. A response that used no nonce and changes no directive (no
    ``csp_update``/``csp_replace`` decorator) always gets the same two strings: those are built
    once (again when the settings change, as in tests) and set under django-csp's own rules.
    Every other response goes through django-csp as it is.
    """

    def process_response(self, request, response):
        if (
            settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _POLICY_ATTRIBUTES)
        ):
            return super().process_response(request, response)
        for header, policy, exemption, excluded in _site_policies():
            if (
                policy
                and header not in response
                and getattr(response, exemption, False) is False
                and not request.path_info.startswith(excluded)
            ):
                response[header] = policy
        request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response
