"""The score card and its history as read-only HTML tables on the project page."""

from datetime import UTC

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from projects.changes import change_line
from projects.models import Operator
from projects.vocabularies import Confidence, Dimension, PublicationState, RiskLevel, ScoreStatus


def _label(choices, value) -> str:
    """A stored value (``"elevated"``) in the active language (``"やや高"``); unknown ones as stored."""
    return choices(value).label if value in choices.values else (value or "")


def _when(moment) -> str:
    """A time in UTC (the tables say so) in the active language's date format."""
    return date_format(moment.astimezone(UTC), "DATETIME_FORMAT")


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
        level = _label(RiskLevel, dim.get("level")) or ("" if "level" not in dim else "—")
        if dim.get("severe"):
            level = f"{level} ⚠ {_('severe')}"
        if not dim.get("applicable", True):
            none_apply = _("all criteria not applicable")  # outside the f-string, where xgettext finds it
            level = f"{level} ({none_apply})".strip()
        rows.append((label, _number(dim["value"]), _range(dim), f"{dim['coverage']:.0%}", level))
    body = format_html_join(
        "", '<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>', rows
    )
    return format_html(
        "<p><strong>{}</strong> {} · {} {} ({} {}) · {} {} · {} {}</p>"
        '<p class="score-explanation">{}</p>'
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
        _label(ScoreStatus, card["status"]),
        _("confidence"),
        _label(Confidence, card["confidence"]) or "—",
        score_explanation(card),
        f"{_('Method')} {card['methodology']} {cap}".strip(),
        _("dimension"),
        _("score"),
        _("range"),
        _("coverage"),
        _("risk level"),
        body,
    )


# Short names for the explanation's factors ("debris factor 0.90").
_FACTOR_NAMES = {"debris": _lazy("debris"), "equity": _lazy("equity")}


def score_explanation(card: dict | None, methodology=None) -> str:
    """How the card's net score and grade came about, in one sentence, from the stored card and
    its method's parameters: "net = impact 41.0 × debris factor 0.90 × equity factor 0.85 = 31.4;
    grade C, capped at C because equity risk is high". The figures are the card's (the engine's,
    rounded as served); the factors 1 − α·risk/100 are those the engine multiplied by."""
    from fractions import Fraction

    from projects.models import Methodology
    from projects.scoring import round_half_up
    from projects.scoring.engine import RISK
    from projects.services.scoring import method_spec

    if not card:
        return ""
    overall = card["overall"]
    if overall.get("value") is None:
        return _(
            "No net score: not every dimension has enough of its criteria assessed (status: %(status)s)."
        ) % {"status": _label(ScoreStatus, card["status"])}
    if methodology is None:
        methodology = Methodology.objects.filter(version=card["methodology"]).first()
    if methodology is None:
        return ""
    spec = method_spec(methodology)
    risks = [dimension.key for dimension in spec.dimensions if dimension.kind == RISK]
    factors = []
    for key in risks:
        value = card["dimensions"][key]["value"]
        factor = 1 - spec.alpha * Fraction(str(value)) / 100
        name = _FACTOR_NAMES.get(key, key)
        factors.append(_("%(name)s factor %(factor).2f") % {"name": name, "factor": round_half_up(factor, 2)})
    impact = (card.get("impact") or {}).get("value")
    sentence = " × ".join([_("impact %(value)s") % {"value": _number(impact)}, *factors])
    sentence = _("net = %(product)s = %(net)s; grade %(grade)s") % {
        "product": sentence,
        "net": _number(overall["value"]),
        "grade": overall.get("grade") or "—",
    }
    cap = overall.get("grade_cap")
    if cap == "risk_level_high":
        high = [
            str(_FACTOR_NAMES.get(k, k))
            for k in risks
            if card["dimensions"][k].get("level") == spec.highest_risk_level
        ]
        sentence += ", " + _("capped at %(grade)s because %(risks)s risk is high") % {
            "grade": overall["grade"],
            "risks": ", ".join(high),
        }
    elif cap == "severe_rating":
        severe = [str(_FACTOR_NAMES.get(k, k)) for k in risks if card["dimensions"][k].get("severe")]
        sentence += ", " + _("capped at %(grade)s because a %(risks)s criterion is rated 4") % {
            "grade": overall["grade"],
            "risks": ", ".join(severe),
        }
    return sentence + "."


def score_history_html(cards) -> str:
    rows = [
        (
            _when(card.computed_at),
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


def _fact_text(value) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def draft_html(project, changes: dict | None, *, list_changes: bool = True) -> str:
    """The working draft beside the published version: what publishing now would change.

    ``list_changes=False`` leaves out the short table of changed facts and ratings, for a page that
    shows the full diff instead (the publish preview: review_diff.html)."""
    if project.current_score_id is None:
        return _("Not scored yet.")
    if changes is None:
        return _("No unpublished changes: the public sees these ratings and this card.")
    published = project.published_score
    working = project.current_score
    if changes["first"]:
        lead = _("Never published: the public does not see this project yet.")
    elif project.state != PublicationState.PUBLISHED:
        lead = _("Withdrawn: the public does not see this project; publishing shows it again.")
    else:
        lead = _(
            "Unpublished changes: the public still sees publication #%(number)d until a reviewer publishes."
        ) % {"number": project.publication.number}
    moves = [
        (item["criterion"], _rating_text(item["from"]), _rating_text(item["to"]))
        for item in changes["ratings"]
    ]
    if changes["evidence"]:
        moves.append((", ".join(changes["evidence"]), _("evidence revised"), _("rating unchanged")))
    # Facts that wait for this publication: the reviewer sees each old and new value in full.
    facts = changes.get("facts", [])
    operators = dict(
        Operator.objects.filter(
            pk__in=[item[end] for item in facts if item["field"] == "operator" for end in ("from", "to")]
        ).values_list("pk", "name")
    )
    moves = [
        (
            item["field"],
            _fact_text(operators.get(item["from"]) if item["field"] == "operator" else item["from"]),
            _fact_text(operators.get(item["to"]) if item["field"] == "operator" else item["to"]),
        )
        for item in facts
    ] + moves
    figures = [
        (_("net score"), _number(published.net_score if published else None), _number(working.net_score)),
        (_("grade"), (published.grade if published else "") or "—", working.grade or "—"),
        (_("status"), published.get_status_display() if published else "—", working.get_status_display()),
        (
            _("confidence"),
            (published.get_confidence_display() if published else "") or "—",
            working.get_confidence_display() or "—",
        ),
        (_("method"), published.methodology.version if published else "—", working.methodology.version),
    ]
    row = '<tr><th scope="row">{}</th><td>{}</td><td>{}</td></tr>'
    head = '<thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead>'
    summary = format_html(
        '<p class="draft-lead"><strong>{}</strong></p><p class="draft-change-line">{}</p>'
        "<table><caption>{}</caption>" + head + "<tbody>{}</tbody></table>",
        lead,
        change_line(changes),
        _("How the score would move"),
        _("figure"),
        _("published"),
        _("draft"),
        format_html_join("", row, figures),
    )
    if not list_changes:
        return summary
    return summary + format_html(
        "<table><caption>{}</caption>" + head + "<tbody>{}</tbody></table>",
        _("Facts and ratings changed since the last publication"),
        _("criterion"),
        _("published"),
        _("draft"),
        format_html_join("", row, moves) if moves else mark_safe('<tr><td colspan="3">—</td></tr>'),
    )


def _rating_text(value) -> str:
    if value is None:
        return _("missing")
    if value == "n/a":
        return _("not applicable")
    return str(value)


def publications_html(publications) -> str:
    rows = [
        (
            publication.number,
            _when(publication.published_at),
            getattr(publication.published_by, "username", "") or "—",
            change_line(publication.changes),
            publication.note,
        )
        for publication in publications
    ]
    if not rows:
        return _("Never published.")
    body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
    return format_html(
        '<table><thead><tr><th scope="col">#</th><th scope="col">{}</th><th scope="col">{}</th>'
        '<th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>{}</tbody></table>',
        _("published (UTC)"),
        _("by"),
        _("what changed"),
        _("note"),
        body,
    )
