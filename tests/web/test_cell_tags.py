"""The cell tags of the public pages (projects/templatetags/web_cells.py): what a sighted reader
sees and a screen reader reads in each cell, in English and Japanese."""

from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.template.defaultfilters import floatformat
from django.utils import translation

from projects.models import Operator, Project
from projects.templatetags.web_cells import (
    choice_label,
    grade,
    level_texts,
    number,
    origin_note,
    risk,
    sort_header,
)
from projects.vocabularies import OperatorKind, Phase, TargetBody
from tests.admin.pages import Element, parse


def cell(html: str) -> Element:
    """The one element a tag wrote (a tag may add a second, the severe flag, beside it)."""
    elements = [child for child in parse(html).children if isinstance(child, Element)]
    assert elements, html
    return elements[0]


def lit_bars(html: str) -> int:
    """How many of the risk meter's four bars are lit (the meter is hidden from screen readers)."""
    meter = parse(html).find("svg", class_="meter")
    assert meter.attrs.get("aria-hidden") == "true"
    bars = meter.find_all("rect")
    assert len(bars) == 4
    return sum("on" in bar.classes for bar in bars)


def render(source: str, **context) -> str:
    return Template("{% load web_cells %}" + source).render(Context(context))


@pytest.fixture
def japanese():
    with translation.override("ja"):
        yield


# number: floatformat:1, or a dash read out as "no value"


@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_number_is_a_dash_read_as_no_value(value):
    written = parse(number(value))
    assert (written.seen_text, written.spoken_text) == ("—", "no value")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0.0"),
        (0.0, "0.0"),
        (100.0, "100.0"),
        (47.5, "47.5"),
        (44.65, "44.7"),  # rounded half up from the decimal the float prints as, like floatformat
        (44.64999, "44.6"),
        (0.05, "0.1"),
        (-3.25, "-3.3"),
        (-12.0, "-12.0"),
        (-0.04, "0.0"),  # no negative zero
        ("61.25", "61.3"),
    ],
)
def test_a_number_has_one_decimal_place(value, expected):
    assert number(value) == expected


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("value", [0, 0.0, 1, 9.95, 44.65, 57.349, -0.04, -7.75, 99.99, 1234.56, "3.14"])
def test_a_number_is_exactly_what_floatformat_1_writes_in_each_language(language, value):
    with translation.override(language):
        assert number(value) == floatformat(value, 1)
        assert render("{% number value %}", value=value) == render("{{ value|floatformat:1 }}", value=value)


def test_no_value_is_translated(japanese):
    assert parse(number(None)).spoken_text == "値なし"
    assert number(44.65) == "44.7"


def test_a_number_of_a_missing_object_is_no_value_in_a_template():
    written = parse(render("{% number score.sdg7 %}", score=None))
    assert (written.seen_text, written.spoken_text) == ("—", "no value")


# grade


def test_a_grade_is_its_letter_in_a_box_named_for_screen_readers():
    box = cell(grade("B"))
    assert box.classes == ["grade", "grade-b"]
    assert (box.seen_text, box.spoken_text) == ("B", "Grade B")


@pytest.mark.parametrize("name", ["", None])
def test_no_grade_is_a_dash_explained(name):
    box = cell(grade(name))
    assert box.classes == ["grade", "grade-none"]
    assert box.attrs["title"] == "No grade: insufficient data"
    assert (box.seen_text, box.spoken_text) == ("–", "No grade: insufficient data")


def test_grades_in_japanese(japanese):
    assert cell(grade("E")).spoken_text == "評点 E"
    none = cell(grade(""))
    assert none.attrs["title"] == none.spoken_text == "評点なし：データ不足"


# risk


@pytest.mark.parametrize(("level", "bars"), [("low", 1), ("moderate", 2), ("elevated", 3), ("high", 4)])
def test_a_risk_level_lights_one_to_four_bars_and_is_named(level, bars):
    written = risk(level, "Named", False)
    assert cell(written).classes == ["risk", f"risk-{level}"]
    assert lit_bars(written) == bars
    assert parse(written).seen_text == parse(written).spoken_text == "Named"


def test_a_severe_risk_is_flagged_after_its_name():
    written = parse(risk("high", "High", True))
    assert (written.seen_text, written.spoken_text) == ("High ⚠ severe", "High severe")
    assert written.find("span", class_="severe")


def test_no_level_is_said_with_or_without_a_severe_flag():
    assert parse(risk("", "", False)).spoken_text == "no level"
    assert not parse(risk("", "", False)).find_all("svg")
    flagged = parse(risk(None, "", True))
    assert (flagged.seen_text, flagged.spoken_text) == ("no level ⚠ severe", "no level severe")


def test_the_level_and_its_name_are_escaped():
    written = parse(risk("low", "<b>Low & co</b>", False))
    assert written.seen_text == "<b>Low & co</b>"
    assert not written.find_all("b")
    assert cell(risk('x"y', "X", False)).attrs["class"] == 'risk risk-x"y'


def test_risks_in_japanese(japanese):
    assert parse(risk("", "", True)).spoken_text == "段階なし 深刻"
    written = risk("elevated", "やや高い", True)
    assert parse(written).seen_text == "やや高い ⚠ 深刻"
    assert lit_bars(written) == 3


def test_risk_in_a_template_reads_its_three_arguments():
    score = SimpleNamespace(debris_level="moderate", debris_severe=True)
    written = render("{% risk score.debris_level name score.debris_severe %}", score=score, name="Moderate")
    assert cell(written).classes == ["risk", "risk-moderate"]
    assert lit_bars(written) == 2
    assert parse(written).spoken_text == "Moderate severe"


# origin note


def test_synthetic_and_demo_projects_are_labelled():
    for origin, label in [
        ("synthetic", "synthetic benchmark data"),
        ("demo", "illustrative demo assessment"),
    ]:
        note = cell(origin_note(Project(origin=origin)))
        assert note.classes == ["origin-note", f"origin-{origin}"]
        assert note.seen_text == note.spoken_text == label


def test_assessed_projects_and_missing_ones_have_no_label():
    assert origin_note(Project(origin="assessed")) == ""
    assert render("{% origin_note project %}") == ""


def test_origin_labels_in_japanese(japanese):
    assert parse(origin_note(Project(origin="synthetic"))).spoken_text == "合成ベンチマークデータ"
    assert parse(origin_note(Project(origin="demo"))).spoken_text == "説明用のデモ評価"


# sortable column headings


def header(aria_sort, url="?sort=net", label="Net score"):
    return SimpleNamespace(aria_sort=aria_sort, url=url, label=label)


def test_an_unsorted_column_heading_offers_to_sort():
    heading = cell(sort_header(header(None, "?body=moon&sort=name", "Project")))
    assert (heading.tag, heading.attrs) == ("th", {"scope": "col"})
    assert heading.find("a").attrs["href"] == "?body=moon&sort=name"
    assert (heading.seen_text, heading.spoken_text) == ("Project ↕", "Project")


def test_the_sorted_column_heading_says_its_order():
    for written, order, url, arrow in [
        (sort_header(header("ascending"), numeric=True), "ascending", "?sort=net", "▲"),
        (
            render("{% sort_header h numeric=True %}", h=header("descending", "?sort=-net")),
            "descending",
            "?sort=-net",
            "▼",
        ),
    ]:
        heading = cell(written)
        assert heading.attrs == {"scope": "col", "aria-sort": order, "class": "numeric"}
        assert heading.find("a").attrs["href"] == url
        assert (heading.seen_text, heading.spoken_text) == (f"Net score {arrow}", "Net score")


# level texts of a criterion

TEXTS = ("None", "Some", "Half <most>", "Most", "All")


def level_items(html: str) -> list[tuple[str, bool, str]]:
    """Each level of the list: its number, whether it is marked as this project's, its text."""
    listing = cell(html)
    assert (listing.tag, listing.attrs) == ("ol", {"class": "level-texts", "start": "0"})
    return [
        (item.attrs["value"], "chosen" in item.classes, item.clean_text) for item in listing.find_all("li")
    ]


def test_the_rated_level_is_marked_among_the_level_texts():
    assert level_items(level_texts(TEXTS, 2)) == [
        ("0", False, "0 None"),
        ("1", False, "1 Some"),
        ("2", True, "2 Half <most> (this project)"),
        ("3", False, "3 Most"),
        ("4", False, "4 All"),
    ]
    assert parse(level_texts(TEXTS, 2)).find("li", class_="chosen").find("strong").text == "(this project)"


def test_no_level_is_marked_when_the_criterion_is_not_rated():
    assert "chosen" not in level_texts(TEXTS, None)
    assert level_items(level_texts(TEXTS[:1], None)) == [("0", False, "0 None")]


def test_this_project_in_japanese(japanese):
    assert level_items(level_texts(("なし",), 0)) == [("0", True, "0 なし (このプロジェクト)")]


# choice labels


@pytest.mark.parametrize("language", ["en", "ja"])
def test_choice_label_is_what_get_display_returns(language):
    with translation.override(language):
        for body in TargetBody.values:
            for phase in Phase.values:
                project = Project(target_body=body, phase=phase)
                assert choice_label(project, "target_body") == project.get_target_body_display()
                assert choice_label(project, "phase") == project.get_phase_display()
        for kind in OperatorKind.values:
            operator = Operator(kind=kind)
            assert choice_label(operator, "kind") == operator.get_kind_display()


def test_choice_labels_follow_the_active_language():
    project = Project(target_body="moon", phase="pilot")
    assert render('{{ p|choice_label:"target_body" }}', p=project) == "Moon"
    with translation.override("ja"):
        assert render('{{ p|choice_label:"target_body" }}', p=project) == str(TargetBody.MOON.label)
        assert str(TargetBody.MOON.label) != "Moon"
    assert choice_label(Project(target_body="pluto"), "target_body") == "pluto"  # unknown: the value


# translations: the tags' texts keep the msgids the templates had, so the catalogue still has them


@pytest.mark.parametrize(
    "msgid",
    [
        "no value",
        "Grade",
        "No grade: insufficient data",
        "severe",
        "no level",
        "synthetic benchmark data",
        "illustrative demo assessment",
        "this project",
    ],
)
def test_every_text_of_the_tags_has_a_japanese_translation(msgid):
    with translation.override("ja"):
        assert translation.gettext(msgid) != msgid
