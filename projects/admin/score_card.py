"""The score card and its history as read-only HTML tables on the project page."""

from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from projects.vocabularies import Dimension


def _number(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def _range(part: dict) -> str:
    if part.get("low") is None:
        return "—"
    return f"{part['low']:.1f} – {part['high']:.1f}"


def score_card_html(card: dict | None) -> str:
    if not card:
        return _("Not scored yet: no published method, or the project was never saved.")
    overall = card["overall"]
    cap = {
        "risk_level_high": _("capped: a risk level is high"),
        "severe_rating": _("capped: a risk criterion is rated 4"),
    }.get(overall.get("grade_cap"), "")
    rows = []
    for key, label in Dimension.choices:
        dim = card["dimensions"][key]
        level = dim.get("level") or ("" if "level" not in dim else "—")
        if dim.get("severe"):
            level = f"{level} ⚠ {_('severe')}"
        if not dim.get("applicable", True):
            level = f"{level} ({_('all criteria not applicable')})".strip()
        rows.append((label, _number(dim["value"]), _range(dim), f"{dim['coverage']:.0%}", level))
    body = format_html_join(
        "", '<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>', rows
    )
    return format_html(
        "<p><strong>{}</strong> {} · {} {} ({} {}) · {} {} · {} {}</p>"
        '<table><caption>{}</caption><thead><tr><th scope="col">{}</th><th scope="col">{}</th>'
        '<th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead>'
        "<tbody>{}</tbody></table>",
        _("Grade"),
        overall["grade"] or "—",
        _("net score"),
        _number(overall["value"]),
        _("range"),
        _range(overall),
        _("status"),
        card["status"],
        _("confidence"),
        card["confidence"] or "—",
        f"{_('Method')} {card['methodology']} {cap}".strip(),
        _("dimension"),
        _("score"),
        _("range"),
        _("coverage"),
        _("risk level"),
        body,
    )


def score_history_html(cards) -> str:
    rows = [
        (
            f"{card.computed_at:%Y-%m-%d %H:%M}",
            card.methodology.version,
            card.grade or "—",
            _number(card.net_score),
            card.get_status_display(),
        )
        for card in cards
    ]
    if not rows:
        return "—"
    body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
    return format_html(
        '<table><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th>'
        '<th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>{}</tbody></table>',
        _("computed (UTC)"),
        _("method"),
        _("grade"),
        _("net score"),
        _("status"),
        body,
    )
