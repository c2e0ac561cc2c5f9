"""The methodology page's §8 (uncertainty and rank stability) and §10 (what would change the
grade), in both languages: the worked example's figures are written out in
projects/templates/web/includes/method_uncertainty.html, and these tests recompute them with the
engine (projects/scoring and projects/scoring/uncertainty.py), so the page and the engine never
disagree unnoticed; so are the claims its sentences make about the example."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.utils import translation

from projects.scoring import Card, GradeChange, Method, Rating, grade_changes, round_half_up, score
from projects.scoring.engine import IMPACT
from projects.scoring.uncertainty import (
    ALPHA_RANGE,
    MOVE_CHANCE,
    SCENARIOS,
    SEED,
    WEIGHT_SPREAD,
    Figures,
    encode,
    uncertainty,
)
from projects.services.scoring import method_spec
from tests.admin.pages import Element
from tests.web.pages import page

pytestmark = pytest.mark.django_db
LANGUAGES = ["en", "ja"]

# The worked example, as the page's tables show it: (criterion, level, evidence grade).
EXAMPLE = (
    ("S7.1", 2, "D"),
    ("S7.2", 2, "C"),
    ("S7.3", 1, "D"),
    ("S9.1", 2, "A"),
    ("S9.2", 2, "A"),
    ("S12.1", 2, "C"),
    ("S12.2", 2, "C"),
    ("S12.3", 1, "C"),
    ("D1", 2, "B"),
    ("D2", 1, "B"),
    ("E1", 2, "C"),
    ("E2", 2, "B"),
)
NOT_APPLICABLE = ("D5",)
# Its peers: the level of every SDG criterion, of every risk criterion, and their evidence grade.
PEERS = ((3, 0, "B"), (3, 2, "B"), (3, 3, "C"), (2, 2, "B"), (1, 1, "A"))


@dataclass(frozen=True)
class Worked:
    """The example computed by the engine: the project first, then its peers, in the page's order."""

    method: Method
    ratings: list[Rating]
    missing: list[str]
    card: Card
    peers: list[Card]
    changes: tuple[GradeChange, ...]
    figures: Figures
    projects: list[list[Rating]]

    @property
    def rank(self) -> int:
        """Its rank as published: 1 + the peers with a strictly higher net score."""
        return 1 + sum(peer.net > self.card.net for peer in self.peers)

    def share(self, grade: str) -> float:
        return float(self.figures.grades[0][self.figures.grade_names.index(grade)])

    def width(self, ratings: list[Rating], **options) -> float:
        """The example's 90% interval of the net score with other ratings (the same peers)."""
        projects = [ratings, *self.projects[1:]]
        grades = [score(self.method, project).grade for project in projects]
        figures = uncertainty(self.method, encode(self.method, projects), grades, **options)
        return float(figures.net[0][2] - figures.net[0][0])


def peer_ratings(spec, sdg: int, risk: int, evidence: str) -> list[Rating]:
    kinds = {dimension.key: dimension.kind for dimension in spec.dimensions}
    return [
        Rating(criterion.code, sdg if kinds[criterion.dimension] == IMPACT else risk, evidence)
        for criterion in spec.criteria
    ]


@pytest.fixture
def worked(method) -> Worked:
    spec = method_spec(method)
    ratings = [Rating(code, level, grade) for code, level, grade in EXAMPLE]
    ratings += [Rating(code, not_applicable=True) for code in NOT_APPLICABLE]
    named = {rating.code for rating in ratings}
    missing = [criterion.code for criterion in spec.criteria if criterion.code not in named]
    projects = [ratings, *(peer_ratings(spec, *peer) for peer in PEERS)]
    cards = [score(spec, project) for project in projects]
    figures = uncertainty(spec, encode(spec, projects), [card.grade for card in cards])
    return Worked(
        method=spec,
        ratings=ratings,
        missing=missing,
        card=cards[0],
        peers=cards[1:],
        changes=grade_changes(spec, ratings),
        figures=figures,
        projects=projects,
    )


def methodology(client, lang: str) -> Element:
    response = client.get(f"/{lang}/methodology/")
    assert response.status_code == 200
    return page(response)


def section(tree: Element, anchor: str) -> Element:
    return tree.find("section", **{"aria-labelledby": anchor})


def rows(tree: Element, table_class: str) -> list[list[str]]:
    """A table's body as a sighted reader sees it (a grade box reads as its letter)."""
    body = tree.find("table", class_=table_class).find("tbody")
    return [
        [cell.seen_text for cell in row.children if isinstance(cell, Element) and cell.tag in ("th", "td")]
        for row in body.find_all("tr")
    ]


def one_decimal(value) -> str:
    return f"{value:.1f}"


def percent(value: float) -> str:
    return f"{round(value * 100, 1):g}%"


def translated(lang: str, msgid: str) -> str:
    with translation.override(lang):
        return translation.gettext(msgid)


# --- (a) the example's figures are the engine's ----------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_example_ratings_and_peers_are_those_the_engine_scores(client, worked, lang):
    tree = section(methodology(client, lang), "uncertainty")
    ratings = rows(tree, "example-ratings")
    assert [row[0] for row in ratings[: len(EXAMPLE)]] == [code for code, _, _ in EXAMPLE]
    assert [(row[0], int(row[1]), row[2]) for row in ratings[: len(EXAMPLE)]] == list(EXAMPLE)
    not_applicable, missing = ratings[len(EXAMPLE) :]
    assert not_applicable[0] == ", ".join(NOT_APPLICABLE)
    assert not_applicable[1] == translated(lang, "not applicable")
    assert missing[0] == ", ".join(worked.missing)  # every other criterion, in the method's order
    assert missing[1] == translated(lang, "missing")
    # "twelve criteria assessed, one not applicable and twelve missing", "five fictional peers"
    assert (len(EXAMPLE), len(NOT_APPLICABLE), len(worked.missing), len(PEERS)) == (12, 1, 12, 5)

    peer = translated(lang, "Peer")
    assert rows(tree, "example-peers") == [
        [
            f"{peer} {number}",
            str(sdg),
            str(risk),
            evidence,
            one_decimal(round_half_up(card.net, 1)),
            card.grade,
        ]
        for number, ((sdg, risk, evidence), card) in enumerate(zip(PEERS, worked.peers, strict=True), 1)
    ]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_example_net_score_rank_and_grade_shares_are_the_engines(client, worked, lang):
    tree = section(methodology(client, lang), "uncertainty")
    figures = worked.figures
    assert figures.scenarios == SCENARIOS and figures.seed == SEED
    net = [one_decimal(round(float(value), 1)) for value in figures.net[0]]  # stored and shown so
    rank = [str(int(value)) for value in figures.rank[0]]
    published_net = one_decimal(round_half_up(worked.card.net, 1))
    assert rows(tree, "example-figures") == [
        [translated(lang, "Net score"), published_net, net[1], net[0], net[2]],
        [translated(lang, "Rank"), str(worked.rank), rank[1], rank[0], rank[2]],
    ]

    shares = rows(tree, "example-grades")
    assert [row[0][0] for row in shares] == list(figures.grade_names)
    for row, grade, share in zip(shares, figures.grade_names, figures.grades[0], strict=True):
        assert row[1:] == [str(round(share * SCENARIOS)), f"{share * 100:.1f}%"], grade
        assert row[0].endswith(f"({translated(lang, 'published grade')})") == (grade == worked.card.grade)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_example_grade_changes_are_the_engines(client, worked, lang):
    tree = section(methodology(client, lang), "grade-changes")
    assert worked.changes, "the example stands near a grade boundary"
    assert rows(tree, "example-changes") == [
        [
            change.code,
            str(change.level_from),
            str(change.level_to),
            one_decimal(round_half_up(change.net, 1)),
            change.grade,
        ]
        for change in worked.changes
    ]
    links = [a.attrs["href"] for a in tree.find("table", class_="example-changes").find_all("a")]
    assert links == [f"#criterion-{change.code.lower().replace('.', '')}" for change in worked.changes]


def test_what_the_example_sentences_say_is_what_the_engine_finds(worked):
    card, figures, changes = worked.card, worked.figures, worked.changes
    # "The published grade D comes out in fewer than nine scenarios in ten, and E in more than one in four."
    assert card.grade == "D" and not figures.stable[0]
    assert worked.share("D") < 0.9 and worked.share("E") > 0.25
    # "three changes would change its grade, all down to E; no single improvement raises it to C"
    assert len(changes) == 3 and {change.grade for change in changes} == {"E"}
    # "These are the heaviest criteria of their dimensions": S9.1, and a debris and an equity risk.
    spec = worked.method
    for change in changes:
        dimension = spec.criteria_by_code[change.code].dimension
        heaviest = max(criterion.weight for criterion in spec.criteria_by_dimension[dimension])
        assert spec.criteria_by_code[change.code].weight == heaviest, change.code
    assert {spec.criteria_by_code[change.code].dimension for change in changes} == {
        "sdg9",
        "debris",
        "equity",
    }
    # "as published, two peers stand just above the example, and in many scenarios it overtakes one or
    # both of them. With six projects, every scenario places it in the top 10."
    above = sorted(peer.net for peer in worked.peers if peer.net > card.net)
    assert len(above) >= 2 and above[1] - card.net < 3  # the two nearest, within three points
    low, median, _high = (int(value) for value in figures.rank[0])
    assert median < worked.rank and low == worked.rank - 2
    assert figures.top10[0] == 1.0
    # "Most of this spread comes from the twelve missing criteria: with grade A evidence for every
    # assessed rating, the interval would barely narrow, while assessing the missing criteria would
    # narrow it most."
    spread = float(figures.net[0][2] - figures.net[0][0])
    verified = [Rating(r.code, r.level, "A") if not r.not_applicable else r for r in worked.ratings]
    assert worked.width(verified) >= 0.9 * spread
    assert worked.width(verified, weight_spread=0.0, alpha_range=(0.5, 0.5)) >= 0.75 * spread
    assessed = worked.ratings + [Rating(code, 2, "D") for code in worked.missing]
    assert worked.width(assessed) < worked.width(verified)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_parameters_in_the_text_are_the_engines(client, method, lang):
    tree = section(methodology(client, lang), "uncertainty")
    words = tree.clean_text
    assert f"{SCENARIOS:,}" in words and str(SEED) in words
    assert f"{1 - WEIGHT_SPREAD:g}" in words and f"{1 + WEIGHT_SPREAD:g}" in words
    assert f"{ALPHA_RANGE[0]:g}" in words and f"{ALPHA_RANGE[1]:g}" in words
    assert f"{float(method_spec(method).alpha):g}" in words  # "α, which is 0.5 in the net score"
    assert rows(tree, "move-chances") == [
        [grade, percent(chance), percent(chance / 2), percent(chance / 2), percent(1 - chance)]
        for grade, chance in MOVE_CHANCE.items()
    ]


# --- (b) the sections, their headings and anchors, in both languages -------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_both_sections_have_their_heading_anchor_and_place_in_the_contents(client, lang):
    tree = methodology(client, lang)
    headings = {
        "uncertainty": "Uncertainty and rank stability",
        "grade-changes": "What would change the grade",
    }
    contents = [a.attrs["href"] for a in tree.find("nav", class_="toc").find_all("a")]
    for anchor, heading in headings.items():
        title = section(tree, anchor).find("h2")
        assert title.attrs["id"] == anchor
        assert title.clean_text == translated(lang, heading)
        assert f"#{anchor}" in contents
    # Between the grades and caps, and the criteria (the project page's "How these figures are
    # computed" links to #uncertainty); every criterion link leads to its criterion.
    assert contents.index("#bands") < contents.index("#uncertainty") < contents.index("#grade-changes")
    assert contents.index("#grade-changes") < contents.index("#criteria")
    ids = {element.attrs.get("id") for element in tree.iter()}
    for anchor in headings:
        for link in section(tree, anchor).find_all("a"):
            assert link.attrs["href"].lstrip("#") in ids, link.attrs["href"]


# Text with three Latin words in a row is English (as tests/browser/test_reader_glance.py checks).
ENGLISH = re.compile(r"[A-Za-z]+[ ,.'’-]+[a-z]+[ ,.'’-]+[a-z]+")


def english_outside_lang_en(element: Element, lang: str = "ja") -> list[str]:
    lang = element.attrs.get("lang") or lang
    found = []
    for child in element.children:
        if isinstance(child, Element):
            found += english_outside_lang_en(child, lang)
        elif lang == "ja" and ENGLISH.search(child):
            found.append(child.strip()[:100])
    if lang == "ja":
        found += [
            f"{name}: {element.attrs[name]}"
            for name in ("aria-label", "title")
            if ENGLISH.search(element.attrs.get(name) or "")
        ]
    return found


def test_the_japanese_sections_are_japanese(client):
    """Needs the section's translations in locale/ja/LC_MESSAGES/django.po and the .mo: until they
    are merged, tests/web/test_translations.py fails, and this test waits for them."""
    if translated("ja", "Uncertainty and rank stability") == "Uncertainty and rank stability":
        pytest.skip("the section's Japanese is not in the compiled catalogue yet")
    tree = methodology(client, "ja")
    assert section(tree, "uncertainty").find("h2").clean_text == "不確実性と順位の安定性"
    assert section(tree, "grade-changes").find("h2").clean_text == "評点を変える変更"
    for anchor in ("uncertainty", "grade-changes"):
        assert english_outside_lang_en(section(tree, anchor)) == [], anchor
    contents = tree.find("nav", class_="toc").clean_text
    assert "Uncertainty" not in contents and "不確実性と順位の安定性" in contents
