"""The project page's "How sure is this grade?" block and the rankings' rank intervals (issue 15):
the stored figures of the last run (method §8) and grade changes (§10), in both languages, with
a table alternative; never computed in a request."""

import re

import pytest

from projects.models import Project, ProjectUncertainty
from projects.services.uncertainty import uncertainty_compute
from tests.support.actors import publish_as_reviewer
from tests.support.builders import all_rated, make_project
from tests.web.pages import page, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(demo_projects):
    """The demo, and a run over it (the fixed seed: the same figures each time)."""
    return uncertainty_compute(reason="test")


def figures(slug: str) -> ProjectUncertainty:
    return ProjectUncertainty.objects.select_related("project__published_score").get(project__slug=slug)


def percent(share: float) -> str:
    value = int(share * 100 + 0.5)
    return "<1" if value == 0 and share > 0 else str(value)


def block(client, url: str):
    return page(client.get(url)).find("section", id="uncertainty")


def test_a_borderline_project_shows_its_interval_shares_rank_and_grade_changes(client, computed):
    row = figures("hayabusa2")
    grade = row.project.published_score.grade
    assert not row.stable and row.grade_changes, "the demo's Hayabusa2 stands near a boundary"
    section = block(client, "/en/projects/hayabusa2/")
    words = section.clean_text

    assert "Borderline" in words and "Stable" not in words
    assert f"The grade is {grade} in only {percent(row.grades[grade])}% of scenarios" in words
    assert f"{row.net_p5:.1f}–{row.net_p95:.1f} (median {row.net_median:.1f})" in words
    # The grade shares, largest first.
    shares = sorted(((s, g) for g, s in row.grades.items() if s > 0), key=lambda item: (-item[0], item[1]))
    first, *rest = shares
    sentence = f"{first[1]} in {percent(first[0])}% of scenarios" + "".join(
        f", {g} in {percent(s)}%" for s, g in rest
    )
    assert sentence in words
    # The rank: its place now, and its interval among the run's projects.
    rank = Project.objects.published().filter(published_net__gt=row.project.published_net).count() + 1
    assert f"Ranked {rank} of {computed.projects}; {row.rank_p5}–{row.rank_p95} in 90% of scenarios" in words
    assert f"in the top 10 in {percent(row.top10)}% of scenarios" in words

    items = section.find("ul", class_="grade-changes").find_all("li")
    assert len(items) == len(row.grade_changes)
    targets = {element.attrs.get("id") for element in page(client.get("/en/projects/hayabusa2/")).iter()}
    for item, change in zip(items, row.grade_changes, strict=True):
        verb = "raise" if change["grade"] < grade else "lower"
        move, net = f"{change['from']} → {change['to']}", f"{change['net']:.1f}"
        assert f"{move} would {verb} it to {change['grade']} (net {net})" in item.clean_text
        assert item.clean_text.startswith(change["criterion"])
        link = item.find("a").attrs["href"]
        assert link.lstrip("#") in targets, link  # it leads to the criterion on the page
    assert f"From 1000 scenarios (seed {computed.seed})" in words
    assert section.find("time").attrs["datetime"].startswith(computed.finished_at.strftime("%Y-%m-%dT%H:%M"))


def test_the_chart_draws_the_interval_the_median_and_the_published_net(client, computed):
    row = figures("hayabusa2")
    svg = block(client, "/en/projects/hayabusa2/").find("figure", class_="interval-chart").find("svg")

    def x(value: float) -> float:
        return round(12 + 336 * value / 100, 1)

    interval = svg.find_all("line", class_="interval")[0]
    assert (float(interval.attrs["x1"]), float(interval.attrs["x2"])) == (x(row.net_p5), x(row.net_p95))
    assert float(svg.find("line", class_="median").attrs["x1"]) == x(row.net_median)
    assert float(svg.find("circle", class_="official").attrs["cx"]) == x(row.project.published_net)
    description = svg.find("desc").clean_text
    assert f"between {row.net_p5:.1f} and {row.net_p95:.1f}" in description
    assert f"median over the scenarios {row.net_median:.1f}" in description
    assert svg.attrs["role"] == "img"


def test_the_figures_have_a_table_alternative(client, computed):
    row = figures("hayabusa2")
    section = block(client, "/en/projects/hayabusa2/")
    details = section.find("details", class_="uncertainty-table")
    tables = details.find_all("table")
    cells = [[cell.clean_text for cell in tr.find_all("td")] for tr in tables[0].find("tbody").find_all("tr")]
    assert cells[0] == [
        f"{v:.1f}" for v in (row.project.published_net, row.net_median, row.net_p5, row.net_p95)
    ]
    assert cells[1][1:] == [str(row.rank_median), str(row.rank_p5), str(row.rank_p95)]
    shares = {
        tr.find("th").clean_text.split(" ")[0]: tr.find("td").clean_text
        for tr in tables[1].find("tbody").find_all("tr")
    }
    assert shares == {g: f"{percent(s)}%" for g, s in row.grades.items() if s > 0}


def test_a_stable_project_says_so(client, computed):
    row = figures("hera")
    grade = row.project.published_score.grade
    assert row.stable
    words = block(client, "/en/projects/hera/").clean_text
    assert "Stable" in words and "Borderline" not in words
    assert f"The grade stays {grade} in {percent(row.grades[grade])}% of scenarios." in words


def test_the_block_in_japanese(client, computed):
    row = figures("hayabusa2")
    grade = row.project.published_score.grade
    section = block(client, "/ja/projects/hayabusa2/")
    words = section.clean_text
    assert "この評点はどこまで確かか" in words and "境界付近" in words
    assert f"評点が{grade}となるのはシナリオの{percent(row.grades[grade])}%だけです" in words
    change = row.grade_changes[0]
    move, net = f"{change['from']} → {change['to']}", f"{change['net']:.1f}"
    assert f"{move} で評点は{change['grade']}に上がります（純スコア{net}）" in words
    assert f"シナリオの90%で{row.rank_p5}〜{row.rank_p95}位" in words
    assert "What would change" not in words and "scenarios" not in words


def test_before_a_run_the_block_says_the_figures_are_being_computed(client, demo_projects):
    section = block(client, "/en/projects/hayabusa2/")
    assert "being computed" in section.clean_text
    assert not section.find_all("figure")


def test_a_project_published_again_shows_no_stale_figures(client, computed):
    project = Project.objects.get(slug="hayabusa2")
    assessment = project.assessments.select_related("criterion").get(criterion__code="S7.1")
    from projects.services.ratings import assessment_save

    assessment.level = 2
    assessment_save(assessment)
    publish_as_reviewer(project=Project.objects.get(pk=project.pk), note="S7.1 raised.")
    section = block(client, "/en/projects/hayabusa2/")
    assert "being computed" in section.clean_text
    uncertainty_compute()
    assert "being computed" not in block(client, "/en/projects/hayabusa2/").clean_text


def test_a_project_without_a_grade_has_no_block(client, computed):
    make_project("thin", assessments=all_rated(2)[:3])  # published, insufficient data
    uncertainty_compute()
    response = client.get("/en/projects/thin/")
    assert response.status_code == 200 and "Insufficient data" in text(response)
    assert 'id="uncertainty"' not in response.content.decode()


def test_pages_read_the_stored_figures_and_never_compute_them(client, computed, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("computed in a request")

    monkeypatch.setattr("projects.scoring.uncertainty.uncertainty", refuse)
    monkeypatch.setattr("projects.services.uncertainty.uncertainty", refuse)
    assert client.get("/en/projects/hayabusa2/").status_code == 200
    assert client.get("/en/").status_code == 200


def test_the_rankings_show_each_rank_interval(client, computed):
    tree = page(client.get("/en/"))
    rows = tree.find("table", class_="rankings").find("tbody").find_all("tr")
    intervals = {
        row.find("th").find("a").attrs["href"].rstrip("/").rsplit("/", 1)[1]: row.find_all(
            "span", class_="rank-interval"
        )
        for row in rows
    }
    for slug, spans in intervals.items():
        stored = ProjectUncertainty.objects.filter(project__slug=slug).first()
        if stored is None:
            assert not spans
            continue
        expected = (
            f"rank {stored.rank_p5} in 90% of scenarios"
            if stored.rank_p5 == stored.rank_p95
            else f"ranks {stored.rank_p5}–{stored.rank_p95} in 90% of scenarios"
        )
        assert [span.clean_text for span in spans] == [expected]
    japanese = text(client.get("/ja/"))
    assert re.search(r"シナリオの90%で\d+(〜\d+)?位", japanese)


def test_the_rankings_show_no_interval_before_a_run(client, demo_projects):
    assert "rank-interval" not in client.get("/en/").content.decode()


def test_names_and_codes_in_the_block_are_escaped(computed):
    """The block is written in Python (projects.web.uncertainty): a method whose criterion names
    or codes held markup would show it as text, never run it."""
    from projects.selectors import project_for_page
    from projects.web.cards import card_view
    from projects.web.method_texts import MethodTexts
    from projects.web.uncertainty import uncertainty_block, uncertainty_view
    from tests.admin.pages import parse

    project = project_for_page("hayabusa2")
    stored = dict(project.uncertainty_stored)
    hostile = '<img src=x onerror="alert(1)">'
    changes = stored["grade_changes"]
    changes = changes if isinstance(changes, list) else __import__("json").loads(changes)
    assert changes, "the demo's Hayabusa2 has grade changes"
    stored["grade_changes"] = [{**changes[0], "criterion": f'S7.1"{hostile}'}, *changes[1:]]
    texts = MethodTexts(project.published_score.methodology)
    view = uncertainty_view(
        stored,
        card=card_view(project.published_score.card, texts),
        texts=texts,
        criterion_names={change["criterion"]: f"<script>alert(2)</script>{hostile}" for change in changes}
        | {f'S7.1"{hostile}': "<b>bold</b>"},
    )
    written = str(uncertainty_block(view))
    tree = parse(f"<html><body>{written}</body></html>".encode())
    tags = {element.tag for element in tree.iter()}
    assert not tags & {"script", "img", "b"}
    assert all(not name.startswith("on") for element in tree.iter() for name in element.attrs)
    assert "<b>bold</b>" in tree.clean_text and "<script>alert(2)</script>" in tree.clean_text
