"""Linked data for search engines and aggregators (schema.org, as JSON-LD in the page's head):
the open data as a ``Dataset``, each project page as a ``CreativeWork`` carrying its rating."""

from __future__ import annotations

import json

from django.utils.html import _json_script_escapes
from django.utils.safestring import SafeString, mark_safe

from .context import SITE_NAME

PUBLISHER = {"@type": "Organization", "name": SITE_NAME}


def json_ld(data: dict) -> SafeString:
    """A ``<script type="application/ld+json">`` block; escaped like ``json_script`` (no text of
    an analyst's can close the element)."""
    text = json.dumps({"@context": "https://schema.org", **data}, ensure_ascii=False)
    return mark_safe(  # noqa: S308 -- the JSON is escaped for the element below
        f'<script type="application/ld+json">{text.translate(_json_script_escapes)}</script>'
    )


def dataset(request, *, name: str, description: str, licence: str, downloads: dict[str, str]) -> SafeString:
    formats = {"projects_json": "application/json", "scores_csv": "text/csv"}
    return json_ld(
        {
            "@type": "Dataset",
            "name": name,
            "description": description,
            "url": request.build_absolute_uri(),
            "license": licence,
            "isAccessibleForFree": True,
            "creator": PUBLISHER,
            "distribution": [
                {
                    "@type": "DataDownload",
                    "encodingFormat": media_type,
                    "contentUrl": request.build_absolute_uri(downloads[key]),
                }
                for key, media_type in formats.items()
            ],
        }
    )


def rated_work(request, *, title: str, project, score, canonical_url: str, method_url: str) -> SafeString:
    data = {
        "@type": "CreativeWork",
        "name": title,
        "url": canonical_url,
        "about": {"@type": "Thing", "name": project.name},
        "publisher": PUBLISHER,
        "isBasedOn": request.build_absolute_uri(method_url),
    }
    if project.updated_at:
        data["dateModified"] = project.updated_at.isoformat()
    if score is not None and score.grade and score.net_score is not None:
        data["contentRating"] = {
            "@type": "Rating",
            "ratingValue": round(score.net_score, 1),
            "bestRating": 100,
            "worstRating": 0,
            "alternateName": f"Grade {score.grade}",
        }
    return json_ld(data)
