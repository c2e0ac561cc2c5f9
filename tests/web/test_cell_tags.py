"""The cell tags of the public pages (projects/templatetags/web_cells.py) write the markup the
template includes they replaced wrote, character for character, in English and Japanese."""

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

NO_VALUE = '<span aria-hidden="true">—</span><span class="visually-hidden">no value</span>'
METER_START = (
    '<svg class="meter" width="18" height="12" viewBox="0 0 18 12" aria-hidden="true" focusable="false">'
    '<rect x="0" y="8" width="3" height="4" class="on"/>'
)
SEVERE = ' <span class="severe"><span aria-hidden="true">⚠</span> severe</span>'


def meter(second: str, third: str, fourth: str) -> str:
    return (
        f'{METER_START}<rect x="5" y="5" width="3" height="7" class="{second}"/>'
        f'<rect x="10" y="2.5" width="3" height="9.5" class="{third}"/>'
        f'<rect x="15" y="0" width="3" height="12" class="{fourth}"/></svg>'
    )


def render(source: str, **context) -> str:
    return Template("{% load web_cells %}" + source).render(Context(context))


@pytest.fixture
def japanese():
    with translation.override("ja"):
        yield


# number: floatformat:1, or a dash read out as "no value"


@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_number_is_a_dash_read_as_no_value(value):
    assert number(value) == NO_VALUE


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
    assert number(None) == '<span aria-hidden="true">—</span><span class="visually-hidden">値なし</span>'
    assert number(44.65) == "44.7"


def test_a_number_of_a_missing_object_is_no_value_in_a_template():
    assert render("{% number score.sdg7 %}", score=None) == NO_VALUE


# grade


def test_a_grade_is_its_letter_in_a_box_named_for_screen_readers():
    assert grade("B") == '<span class="grade grade-b"><span class="visually-hidden">Grade </span>B</span>'


@pytest.mark.parametrize("name", ["", None])
def test_no_grade_is_a_dash_explained(name):
    assert grade(name) == (
        '<span class="grade grade-none" title="No grade: insufficient data"><span aria-hidden="true">–</span>'
        '<span class="visually-hidden">No grade: insufficient data</span></span>'
    )


def test_grades_in_japanese(japanese):
    assert grade("E") == '<span class="grade grade-e"><span class="visually-hidden">評点 </span>E</span>'
    assert grade("") == (
        '<span class="grade grade-none" title="評点なし：データ不足"><span aria-hidden="true">–</span>'
        '<span class="visually-hidden">評点なし：データ不足</span></span>'
    )


# risk


@pytest.mark.parametrize(
    ("level", "bars"),
    [
        ("low", ("off", "off", "off")),
        ("moderate", ("on", "off", "off")),
        ("elevated", ("on", "on", "off")),
        ("high", ("on", "on", "on")),
    ],
)
def test_a_risk_level_lights_one_to_four_bars_and_is_named(level, bars):
    assert risk(level, "Named", False) == f'<span class="risk risk-{level}">{meter(*bars)}Named</span>'


def test_a_severe_risk_is_flagged_after_its_name():
    assert (
        risk("high", "High", True)
        == f'<span class="risk risk-high">{meter("on", "on", "on")}High{SEVERE}</span>'
    )


def test_no_level_is_said_with_or_without_a_severe_flag():
    assert risk("", "", False) == '<span class="muted">no level</span>'
    assert risk(None, "", True) == f'<span class="muted">no level</span>{SEVERE}'


def test_the_level_and_its_name_are_escaped():
    assert risk("low", "<b>Low & co</b>", False) == (
        f'<span class="risk risk-low">{meter("off", "off", "off")}&lt;b&gt;Low &amp; co&lt;/b&gt;</span>'
    )
    assert risk('x"y', "X", False).startswith('<span class="risk risk-x&quot;y">')


def test_risks_in_japanese(japanese):
    severe = ' <span class="severe"><span aria-hidden="true">⚠</span> 深刻</span>'
    assert risk("", "", True) == f'<span class="muted">段階なし</span>{severe}'
    assert risk("elevated", "やや高い", True) == (
        f'<span class="risk risk-elevated">{meter("on", "on", "off")}やや高い{severe}</span>'
    )


def test_risk_in_a_template_reads_its_three_arguments():
    score = SimpleNamespace(debris_level="moderate", debris_severe=True)
    assert render("{% risk score.debris_level name score.debris_severe %}", score=score, name="Moderate") == (
        f'<span class="risk risk-moderate">{meter("on", "off", "off")}Moderate{SEVERE}</span>'
    )


# origin note


def test_synthetic_and_demo_projects_are_labelled():
    assert origin_note(Project(origin="synthetic")) == (
        '<span class="origin-note origin-synthetic">synthetic benchmark data</span>'
    )
    assert origin_note(Project(origin="demo")) == (
        '<span class="origin-note origin-demo">illustrative demo assessment</span>'
    )


def test_assessed_projects_and_missing_ones_have_no_label():
    assert origin_note(Project(origin="assessed")) == ""
    assert render("{% origin_note project %}") == ""


def test_origin_labels_in_japanese(japanese):
    assert origin_note(Project(origin="synthetic")) == (
        '<span class="origin-note origin-synthetic">合成ベンチマークデータ</span>'
    )
    assert (
        origin_note(Project(origin="demo")) == '<span class="origin-note origin-demo">説明用のデモ評価</span>'
    )


# sortable column headings


def header(aria_sort, url="?sort=net", label="Net score"):
    return SimpleNamespace(aria_sort=aria_sort, url=url, label=label)


def test_an_unsorted_column_heading_offers_to_sort():
    assert sort_header(header(None, "?body=moon&sort=name", "Project")) == (
        '<th scope="col"><a href="?body=moon&amp;sort=name">Project'
        ' <span class="sortable" aria-hidden="true">↕</span></a></th>'
    )


def test_the_sorted_column_heading_says_its_order():
    assert sort_header(header("ascending"), numeric=True) == (
        '<th scope="col" aria-sort="ascending" class="numeric"><a href="?sort=net">Net score'
        ' <span aria-hidden="true">▲</span></a></th>'
    )
    assert render("{% sort_header h numeric=True %}", h=header("descending", "?sort=-net")) == (
        '<th scope="col" aria-sort="descending" class="numeric"><a href="?sort=-net">Net score'
        ' <span aria-hidden="true">▼</span></a></th>'
    )


# level texts of a criterion

TEXTS = ("None", "Some", "Half <most>", "Most", "All")


def test_the_rated_level_is_marked_among_the_level_texts():
    assert level_texts(TEXTS, 2) == (
        '<ol class="level-texts" start="0">'
        '<li value="0"><span class="level-number">0</span> None</li>'
        '<li value="1"><span class="level-number">1</span> Some</li>'
        '<li value="2" class="chosen"><span class="level-number">2</span> Half &lt;most&gt;'
        " <strong>(this project)</strong></li>"
        '<li value="3"><span class="level-number">3</span> Most</li>'
        '<li value="4"><span class="level-number">4</span> All</li>'
        "</ol>"
    )


def test_no_level_is_marked_when_the_criterion_is_not_rated():
    assert "chosen" not in level_texts(TEXTS, None)
    assert level_texts(TEXTS[:1], None) == (
        '<ol class="level-texts" start="0"><li value="0"><span class="level-number">0</span> None</li></ol>'
    )


def test_this_project_in_japanese(japanese):
    assert level_texts(("なし",), 0) == (
        '<ol class="level-texts" start="0"><li value="0" class="chosen"><span class="level-number">0</span>'
        " なし <strong>(このプロジェクト)</strong></li></ol>"
    )


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
