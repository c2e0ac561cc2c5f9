"""The rules for visible text, links and country codes, one copy shared by the models (and so the
admin), the import and the API: what one entry path stores, every other path accepts back.

Text rules: a shown text must read as what it is. Format characters (category Cf: direction
overrides and isolates U+202A–202E and U+2066–2069, direction marks, zero-width space, joiners
U+200B–200D, word joiner U+2060, byte-order mark U+FEFF, soft hyphen, tag characters…) are
invisible or reorder what is shown, so a name can pass for another; control characters (Cc)
corrupt pages, CSV and terminals. One-line names take neither; multi-line texts (summaries,
justifications, notes) take newline and tab, and carriage return only before a newline (the
admin's text boxes send CRLF).

Japanese needs none of these characters and is accepted as it is (kana, kanji, the ideographic
space, variation selectors for kanji variants, which are marks, not format characters).

The zero-width joiner is refused in emoji sequences too (👩‍🔬 is 👩 U+200D 🔬): allowing it only
between emoji would be a rule nobody checks, the texts here are English and Japanese (neither
script needs joiners), and without it the sequence still shows, as its separate emoji.
"""

import functools
import gettext as gettext_module
import re
import sys
import unicodedata
from urllib.parse import urlsplit

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# Every stored link (project links, source links): longer ones are refused, never cut.
LINK_MAX_LENGTH = 500

# Beside the officially assigned codes: EU, reserved by ISO 3166 for the European Union and used
# here for the European Space Agency; ZZ, the user-assigned code for an unknown country (CLDR),
# which migration 0020 gives operators whose stored code did not exist.
EXTRA_COUNTRY_CODES = {"EU": _("European Union"), "ZZ": _("unknown country")}

_HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}  # controls, format, lone surrogates, U+2028/9


@functools.cache
def _hidden_pattern(multiline: bool) -> re.Pattern:
    """One character class of every hidden character (built once, on first use): a regular
    expression finds one in a long text, or in a million, far faster than a loop in Python."""
    allowed = "\n\t\r" if multiline else ""
    codes = [
        code
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in _HIDDEN_CATEGORIES and chr(code) not in allowed
    ]
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    members = "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in ranges)
    # In a multi-line text a carriage return is a line break only before a newline (CRLF).
    return re.compile(f"[{members}]" + ("|\\r(?!\\n)" if multiline else ""))


def first_hidden(value: str, *, multiline: bool = False) -> tuple[int, str] | None:
    """The position and character of the first hidden character of ``value``, if any."""
    found = _hidden_pattern(multiline).search(value)
    return (found.start(), found.group()) if found else None


def _refuse(found: tuple[int, str]) -> None:
    position, character = found
    raise ValidationError(
        _(
            "Contains an invisible, control or direction-changing character (U+%(code)04X) at "
            "position %(position)d; remove it."
        ),
        params={"code": ord(character), "position": position + 1},
        code="invisible_characters",
    )


def validate_one_line(value: str) -> None:
    """Names: no control character at all (not even a line break) and no format character."""
    if isinstance(value, str) and (found := first_hidden(value)):
        _refuse(found)


def validate_text(value: str) -> None:
    """Multi-line texts: newline and tab (and CR before a newline), no other control or format
    character."""
    if isinstance(value, str) and (found := first_hidden(value, multiline=True)):
        _refuse(found)


def validate_visible_url(value: str) -> None:
    """Refuse addresses hiding control or direction-changing characters (RLO, RLM, zero-width…):
    shown on a page, such a link can read as another address."""
    if isinstance(value, str) and first_hidden(value):
        raise ValidationError(
            _("The address contains invisible or direction-changing characters."), code="invisible_characters"
        )


_url = URLValidator(schemes=["http", "https"])


def validate_link(value: str) -> None:
    """A web link: a complete http(s) address (a scheme-less one is refused, never completed),
    without user name or password, without invisible characters. The same everywhere: project
    links, source links; admin, import and API."""
    if not isinstance(value, str):
        raise ValidationError(_("Give a web address as text."), code="invalid_link")
    validate_visible_url(value)
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme not in ("http", "https"):
        raise ValidationError(
            _(
                "Enter a valid URL. A link is a complete address starting with https:// or http:// "
                "(%(link)s)."
            ),
            params={"link": value[:200]},
            code="invalid_scheme",
        )
    try:
        _url(value)
    except ValidationError:
        raise ValidationError(
            _("Enter a valid URL. %(link)s is not an http(s) address."),
            params={"link": value[:200]},
            code="invalid_link",
        ) from None
    if "@" in (urlsplit(value).netloc or ""):
        raise ValidationError(
            _("Enter a valid URL. A link may not carry a user name or password (%(link)s)."),
            params={"link": value[:200]},
            code="credentials",
        )


def country_name(code: str) -> str | None:
    """The English name of an accepted country code, None for a code that does not exist."""
    if not isinstance(code, str) or len(code) != 2 or not code.isascii() or not code.isupper():
        return None  # pycountry's lookup ignores case: "jp" would pass for JP
    if code in EXTRA_COUNTRY_CODES:
        return str(EXTRA_COUNTRY_CODES[code])
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else None


@functools.cache
def _country_catalogue(language: str):
    return gettext_module.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def country_label(code: str) -> str:
    """The country's name in the active language (Japanese names from pycountry's catalogue),
    the code itself for one that does not exist."""
    name = country_name(code)
    if name is None:
        return code
    if code in EXTRA_COUNTRY_CODES:
        return str(EXTRA_COUNTRY_CODES[code])
    return _country_catalogue((get_language() or "en")[:2]).gettext(name)


def validate_country(value: str) -> None:
    """An ISO 3166-1 alpha-2 code that exists (assigned to a country), or EU, or ZZ (unknown)."""
    if country_name(value) is None:
        raise ValidationError(
            _(
                "Use a two-letter upper-case country code that exists (ISO 3166-1 alpha-2, e.g. JP, US, "
                "GB; EU for the European Union, ZZ when unknown), not %(code)r."
            ),
            params={"code": value},
            code="invalid_country",
        )
