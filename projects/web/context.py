"""What every public page's base template needs: language links, canonical address, Open Graph."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse, translate_url
from django.utils.translation import get_language, override
from django.utils.translation import gettext_lazy as _

SITE_NAME = "sdgscore"
SITE_DESCRIPTION = _(
    "sdgscore rates space-resource projects (lunar water, asteroid metals, Mars oxygen, helium-3) "
    "on UN Sustainable Development Goals 7, 9 and 12 and on orbital-debris and equity risks."
)
OPEN_GRAPH_LOCALES = {"en": "en_GB", "ja": "ja_JP"}
LANGUAGE_NAMES = {"en": "English", "ja": "日本語"}


def local_path(path: str) -> str:
    """``path`` with one leading slash: a request for ``//evil.example/en/`` must not yield
    ``//evil.example/ja/`` (a link to another site) nor an absolute URL on that host."""
    return "/" + path.lstrip("/\\")


def in_language(path: str, code: str) -> str:
    """``path`` in language ``code``; that language's home page when the path is not a page."""
    translated = translate_url(path, code)
    if translated == path and not path.startswith(f"/{code}/"):
        with override(code):
            translated = reverse("web:home")
    return translated


def _without_language(alternates: list[dict]) -> str:
    default = next(a for a in alternates if a["code"] == settings.LANGUAGE_CODE)["url"]
    return default.replace(f"/{settings.LANGUAGE_CODE}/", "/", 1)


def page_context(
    request, *, title, description=None, canonical_query: str = "", canonical_path: str | None = None, **extra
) -> dict:
    """The base template's context: ``title`` and ``description`` plus the page's own values.
    ``canonical_path``: the address of the page when it has more than one (the current method
    version at /methodology/ and /methodology/1.0/)."""
    language = (get_language() or settings.LANGUAGE_CODE)[:2]
    path = canonical_path or local_path(request.path)
    full_path = local_path(request.get_full_path())
    alternates = []
    for code, _name in settings.LANGUAGES:
        url = in_language(path, code)
        alternates.append(
            {
                "code": code,
                "name": LANGUAGE_NAMES.get(code, code),
                "url": request.build_absolute_uri(url + canonical_query),
                "path": in_language(full_path, code),
                "current": code == language,
            }
        )
    return {
        "page_title": title,
        "page_description": description or SITE_DESCRIPTION,
        "site_name": SITE_NAME,
        "canonical_url": request.build_absolute_uri(path + canonical_query),
        "alternates": alternates,
        # x-default as the sitemap gives it: the address without a language, which sends each
        # reader to their own (django.contrib.sitemaps does the same).
        "default_alternate": {"url": _without_language(alternates)},
        "og_locale": OPEN_GRAPH_LOCALES.get(language, language),
        "og_locale_alternates": [
            OPEN_GRAPH_LOCALES.get(a["code"], a["code"]) for a in alternates if not a["current"]
        ],
        **extra,
    }
