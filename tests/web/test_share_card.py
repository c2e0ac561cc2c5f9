"""The share card (issue 14, item 12): ``og:image`` of a project page is a 1200 × 630 PNG drawn
from its published score card, in the page's language, cached and validated like the pages."""

import io

import pytest
from django.test import override_settings
from PIL import Image

from projects.models import Assessment
from projects.services.ratings import assessment_save
from projects.web import share_card
from tests.support.actors import publish_as_reviewer
from tests.support.builders import make_project
from tests.web.pages import page

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha(db):
    return make_project("alpha", name="Alpha Lander")


def meta(tree, prop: str) -> str:
    found = [
        element.attrs.get("content")
        for element in tree.find_all("meta")
        if element.attrs.get("property") == prop or element.attrs.get("name") == prop
    ]
    assert len(found) == 1, (prop, found)
    return found[0]


def picture(response) -> Image.Image:
    return Image.open(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )


def test_the_project_page_names_its_card_as_og_image(client, alpha):
    tree = page(client.get("/en/projects/alpha/"))
    assert meta(tree, "og:image") == "http://testserver/en/projects/alpha/card.png"
    assert (meta(tree, "og:image:width"), meta(tree, "og:image:height")) == ("1200", "630")
    score = alpha.published_score
    assert meta(tree, "og:image:alt") == (
        f"Alpha Lander: grade {score.grade}, net score {score.net_score:.1f} of 100."
    )
    assert meta(tree, "twitter:card") == "summary_large_image"
    assert meta(page(client.get("/ja/projects/alpha/")), "og:image").endswith("/ja/projects/alpha/card.png")


def test_the_card_is_a_png_of_1200_by_630_others_may_fetch(client, alpha):
    response = client.get("/en/projects/alpha/card.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    image = picture(response)
    assert (image.format, image.size) == ("PNG", (1200, 630))
    again = client.get("/en/projects/alpha/card.png", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_pages_without_a_card_have_no_og_image(client, alpha):
    assert all(
        element.attrs.get("property") != "og:image" for element in page(client.get("/en/")).find_all("meta")
    )


def test_a_draft_has_no_card(client, db):
    make_project("secret", publish=False)
    assert client.get("/en/projects/secret/card.png").status_code == 404


def test_the_card_changes_with_the_published_score_and_with_the_language(client, alpha):
    before = client.get("/en/projects/alpha/card.png").content
    assert client.get("/ja/projects/alpha/card.png").content != before
    assessment = Assessment.objects.get(project=alpha, criterion__code="S9.1")
    assessment.level = 4
    assessment_save(assessment)
    assert client.get("/en/projects/alpha/card.png").content == before  # a draft change: not yet
    publish_as_reviewer(project=alpha, note="S9.1 re-rated.")
    assert client.get("/en/projects/alpha/card.png").content != before


def test_the_grade_colour_is_the_badges(client, alpha):
    image = picture(client.get("/en/projects/alpha/card.png")).convert("RGB")
    colour = "#{:02x}{:02x}{:02x}".format(*image.getpixel((4, 300)))
    assert colour == share_card.GRADE_COLOURS[alpha.published_score.grade]


def test_without_a_japanese_font_the_japanese_card_is_drawn_in_english(alpha):
    share_card._font_path.cache_clear()
    share_card.font.cache_clear()
    try:
        with override_settings(SHARE_CARD_FONTS=["/no/such/font.ttf"]):
            assert share_card.share_card_png(alpha, "ja") == share_card.share_card_png(alpha, "en")
    finally:
        share_card._font_path.cache_clear()
        share_card.font.cache_clear()
