"""The admin speaks English or Japanese, as its user chooses in the header of every admin page.

The selector (projects/templates/admin/base_site.html) posts to Django's set_language view, which
keeps the choice in the django_language cookie; the admin, outside i18n_patterns, follows it.
"""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from tests.admin.pages import LIST_URL, form_data, parse, ratings, score_card_rows, score_card_text
from tests.support.builders import imported

pytestmark = pytest.mark.django_db

SET_LANGUAGE = reverse("set_language")
LOGIN = "/admin/login/?next=/admin/projects/project/"
PASSWORD = "correct horse battery staple"
# The project list's score columns, as test_project_list checks them in English.
HEADINGS = {
    "en": ["Standing", "Published", "Draft", "Debris risk", "Equity risk"],
    "ja": ["進捗", "公開版", "作業版", "デブリリスク", "公平性リスク"],
}


def selector(response):
    """The language form in the page's header, and what submitting it unchanged would send."""
    assert response.status_code == 200
    header = parse(response.content).find("header", id="header")
    form = header.find("form", action=SET_LANGUAGE)
    return form, form_data(form)


def choose(client, page_url: str, language: str):
    """Submit the header's form on ``page_url`` with ``language`` chosen, as a browser does."""
    _, data = selector(client.get(page_url))
    data["language"] = [language]
    return client.post(SET_LANGUAGE, data)


def column_headings(response) -> list[str]:
    table = parse(response.content).find("table", id="result_list")
    return [th.clean_text for th in table.find("thead").find_all("th")]


def in_japanese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    return client


def reviewer_without_second_factor():
    user = get_user_model().objects.create_user("rita", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="reviewer"))
    return user


@pytest.mark.parametrize("url", ["/admin/", LIST_URL, "/admin/projects/project/add/", "/admin/two-factor/"])
def test_every_admin_page_has_a_labelled_language_selector_that_keeps_the_page(admin_client, url):
    form, data = selector(admin_client.get(url))
    assert form.attrs["method"] == "post"
    select = form.find("select", name="language")
    label = form.find("label", **{"for": select.attrs["id"]})
    assert label.clean_text == "Language"
    options = {option.attrs["value"]: option.clean_text for option in select.find_all("option")}
    assert options == {"en": "English", "ja": "日本語"}
    assert form.find("button", type="submit").clean_text  # usable without JavaScript
    assert data["next"] == [url]
    assert data["language"] == ["en"]  # the current language is the one selected
    assert "csrfmiddlewaretoken" in data


def test_the_login_page_has_the_selector_and_switches_before_logging_in():
    client = Client(enforce_csrf_checks=True)  # the form's own CSRF token is what makes it work
    switched = choose(client, LOGIN, "ja")
    assert (switched.status_code, switched["Location"]) == (302, LOGIN)
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ja"
    page = client.get(LOGIN)
    tree = parse(page.content)
    assert tree.find("html").attrs["lang"] == "ja"
    assert tree.find("label", **{"for": "id_otp_token"}).clean_text == "二要素認証コード:"
    assert tree.find("input", type="submit").attrs["value"] == "ログイン"
    assert selector(page)[1]["language"] == ["ja"]


def test_the_two_factor_setup_page_has_the_selector_and_follows_it(client):
    client.post(LOGIN, {"username": reviewer_without_second_factor().username, "password": PASSWORD})
    setup = client.get("/admin/two-factor/")
    assert "must use two-factor authentication" in setup.content.decode()
    choose(client, "/admin/two-factor/", "ja")
    assert (
        "レビュアーと管理者は二要素認証を使う必要があります"
        in client.get("/admin/two-factor/").content.decode()
    )


def test_choosing_japanese_turns_the_project_list_japanese_and_english_turns_it_back(admin_client):
    imported("alpha")
    assert HEADINGS["en"] == [h for h in column_headings(admin_client.get(LIST_URL)) if h in HEADINGS["en"]]

    switched = choose(admin_client, LIST_URL, "ja")
    assert (switched.status_code, switched["Location"]) == (302, LIST_URL)
    page = admin_client.get(LIST_URL)
    tree = parse(page.content)
    assert tree.find("html").attrs["lang"] == "ja"
    assert tree.find("div", id="site-name").clean_text == "sdgscore 管理"
    headings = column_headings(page)
    assert [h for h in headings if h in HEADINGS["ja"]] == HEADINGS["ja"]
    assert not set(HEADINGS["en"]) & set(headings)
    assert "宇宙資源プロジェクト" in page.content.decode()  # the app's name in the breadcrumbs

    choose(admin_client, LIST_URL, "en")
    assert set(HEADINGS["en"]) <= set(column_headings(admin_client.get(LIST_URL)))


def test_the_page_kept_includes_its_query_string(admin_client):
    url = LIST_URL + "?phase__exact=concept&q=lunar"
    switched = choose(admin_client, url, "ja")
    assert switched["Location"] == url


def test_the_project_page_in_japanese_shows_japanese_labels_and_dates(admin_client):
    project = imported("alpha")
    page = in_japanese(admin_client).get(reverse("admin:projects_project_change", args=[project.pk]))
    html = page.content.decode()
    assert "スコアカード" in html and "公開履歴" in html
    created = parse(page.content).find("div", class_="field-created_at").find("div", class_="readonly")
    assert f"{project.created_at.year}年" in created.clean_text  # Django's Japanese DATETIME_FORMAT
    history = parse(page.content).find("div", class_="field-score_history").find("tbody")
    assert f"{project.current_score.computed_at.year}年" in history.clean_text  # not strftime's 2026-12-04


def test_the_score_card_and_the_list_show_levels_and_status_in_japanese(admin_client):
    project = imported("alpha", assessments=ratings())  # every criterion at 2: risks elevated
    client = in_japanese(admin_client)
    page = parse(client.get(reverse("admin:projects_project_change", args=[project.pk])).content)
    card = score_card_text(page)
    assert "状態 評価済み" in card and "信頼度 高" in card
    assert {row[3] for row in score_card_rows(page).values()} == {"", "やや高"}
    list_page = parse(client.get(LIST_URL).content).find("table", id="result_list")
    row = list_page.find("tbody").find("tr")
    assert row.find(class_="field-debris_level").clean_text == "やや高"
    assert row.find(class_="field-standing").clean_text == "下書き"


def test_validation_messages_follow_the_language(admin_client):
    page = in_japanese(admin_client).post(
        "/admin/projects/operator/add/", {"name": "Tsuki Co", "country": "jp", "kind": "company"}
    )
    assert page.status_code == 200
    assert "実在する大文字2文字の国コード" in page.content.decode()


def test_other_apps_sections_on_the_index_read_in_both_languages(admin_client):
    def sections(client):
        tree = parse(client.get("/admin/").content)
        apps = {caption.clean_text for caption in tree.find_all("caption")}
        models = {th.clean_text for th in tree.find_all("th", scope="row")}
        return apps, models

    apps, models = sections(admin_client)
    assert {"Login lockouts", "Two-factor authentication", "Background tasks"} <= apps
    assert {"Authenticator apps", "Task Results"} <= models
    apps, models = sections(in_japanese(admin_client))
    assert {"ログインのロックアウト", "二要素認証", "バックグラウンドタスク"} <= apps
    assert {"認証アプリ", "タスク結果"} <= models
    assert not {"Axes", "Otp_Totp", "Tasks Database Backend", "TOTP devices"} & (apps | models)
