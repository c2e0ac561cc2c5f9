"""Methodology page: rendered from the stored method data, in both languages, with its versions."""

import datetime

import pytest

from projects.models import Criterion, Methodology
from projects.selectors import methodology_current
from tests.web.pages import page, text

pytestmark = pytest.mark.django_db


def test_every_criterion_with_weight_and_all_five_level_texts(client, method):
    tree = page(client.get("/en/methodology/"))
    for criterion in Criterion.objects.filter(methodology=method):
        article = tree.find("h4", id=f"criterion-{criterion.code.lower().replace('.', '')}")
        section = next(a for a in tree.find_all("article") if article in list(a.iter()))
        body = section.clean_text
        assert criterion.name_en in body
        assert f"Weight {criterion.weight} of" in body
        for level_text in criterion.levels_en:
            assert " ".join(level_text.split()) in body


def test_japanese_page_uses_the_japanese_method_texts(client, method):
    body = text(client.get("/ja/methodology/"))
    for criterion in Criterion.objects.filter(methodology=method):
        assert criterion.name_ja in body
        assert criterion.levels_ja[4] in body
    assert method.parameters["dimensions"][0]["name"]["ja"] in body
    assert "低" in body and "やや高" in body


def test_bands_and_caps_come_from_the_method_parameters(client, method):
    body = text(client.get("/en/methodology/"))
    assert "70 or more" in body and "55 to under 70" in body and "below 25" in body  # grades
    assert "below 20" in body and "40 to under 60" in body and "60 or more" in body  # risk levels
    assert "0.75 or more" in body  # confidence high
    assert "If either risk level is “High”, the grade is at most C." in body
    assert "If any risk criterion is rated 4 (severe), the grade is at most D" in body
    assert "at least 50% is assessed" in body
    assert "(1 − 0.5 × debris risk ÷ 100)" in body


def _publish_method_1_1(method, **changes) -> Methodology:
    parameters = {**method.parameters, **changes}
    new = Methodology.objects.create(
        version="1.1",
        state="published",
        published_at=method.published_at + datetime.timedelta(days=30),
        parameters=parameters,
    )
    for criterion in method.criteria.all():
        criterion.pk = None
        criterion.methodology = new
        criterion.save()
    return new


def test_a_new_method_version_changes_the_page_without_code_changes(client, method):
    _publish_method_1_1(method, alpha="1/4")
    assert methodology_current().version == "1.1"
    body = text(client.get("/en/methodology/"))
    assert "(1 − 0.25 × debris risk ÷ 100)" in body
    assert "Version 1.1" in body and "Version 1.0" in body
    assert "(1 − 0.5 × debris risk ÷ 100)" in text(client.get("/en/methodology/1.0/"))


def test_unknown_or_unpublished_version_is_404(client, method):
    Methodology.objects.create(version="2.0", state="draft", parameters=method.parameters)
    assert client.get("/en/methodology/9.9/").status_code == 404
    assert client.get("/en/methodology/2.0/").status_code == 404
