"""A publication's change line, as the public page and the API show it:
"S9.1 2 → 3; net 41.0 → 44.6; grade C → C"."""

from django.utils.translation import gettext as _

DASH = "—"


def _value(value) -> str:
    if value is None or value == "":
        return DASH
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _move(label: str, move: dict) -> str:
    return f"{label} {_value(move['from'])} → {_value(move['to'])}"


def change_line(changes: dict) -> str:
    """One line saying what moved, in the active language ("—" stands for missing or none)."""
    if changes.get("withdrawn"):
        return _("withdrawn from publication")
    parts = []
    if changes["first"]:
        parts.append(_("first publication"))
    elif changes["methodology"]["from"] != changes["methodology"]["to"]:
        parts.append(_move(_("method"), changes["methodology"]))
    if changes.get("facts"):  # which facts, not their texts: a summary does not fit a line
        fields = ", ".join(item["field"] for item in changes["facts"])
        parts.append(_("facts revised: %(fields)s") % {"fields": fields})
    parts += [_move(item["criterion"], item) for item in changes["ratings"]]
    if changes["evidence"]:
        parts.append(_("evidence revised: %(codes)s") % {"codes": ", ".join(changes["evidence"])})
    same_method = changes["methodology"]["from"] == changes["methodology"]["to"]
    if (
        not changes["first"]
        and not changes["ratings"]
        and not changes["evidence"]
        and not changes.get("facts")
        and same_method
    ):
        parts.append(_("no rating changed"))
    if changes["first"]:
        parts.append(f"{_('net')} {_value(changes['net']['to'])}")
        parts.append(f"{_('grade')} {_value(changes['grade']['to'])}")
    else:
        parts.append(_move(_("net"), changes["net"]))
        parts.append(_move(_("grade"), changes["grade"]))
    # Translators: between the parts of a change line ("S9.1 2 → 3; net 41.0 → 44.6").
    separator = _("; ")
    return separator.join(parts)
