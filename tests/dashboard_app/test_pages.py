from __future__ import annotations

from xml.etree import ElementTree

import pytest
from django.test import Client

from tests.support.factories import DEFAULT_PASSWORD, UserFactory

SVG = "{http://www.w3.org/2000/svg}"


def signed_in(user) -> Client:
    browser = Client()
    response = browser.post("/dashboard/login", {"username": user.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    return browser


def test_anonymous_visitors_are_sent_to_the_login(transactional_db) -> None:
    response = Client().get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/login?next=/dashboard/"
    assert Client().get("/dashboard/charts/executions.svg").status_code == 302
    assert "Sign in" in Client().get("/dashboard/login").content.decode()
    root = Client().get("/", follow=True)  # the server opened in a browser
    assert root.redirect_chain[0] == ("/dashboard/", 302)
    assert "Sign in" in root.content.decode()


def test_a_user_signs_in_and_gets_the_page_with_the_flower_link(transactional_db, settings) -> None:
    settings.SWITCHBOARD_FLOWER_URL = "http://flower.example:5555"
    page = signed_in(UserFactory()).get("/dashboard/").content.decode()
    assert 'href="http://flower.example:5555"' in page
    assert "your executions" in page
    assert "/admin/" not in page  # the admin link is for staff


def test_a_wrong_password_shows_the_form_again(transactional_db) -> None:
    user = UserFactory()
    response = Client().post("/dashboard/login", {"username": user.username, "password": "not-it-at-all"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()


@pytest.mark.worker_thread
def test_executions_chart_draws_one_bar_per_hour_and_status(celery_worker, user, divide_workflow, run) -> None:
    for n in (1, 2, 0):
        run(divide_workflow, {"n": n})
    svg = signed_in(user).get("/dashboard/charts/executions.svg")
    assert svg["Content-Type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(svg.content)
    bars = [title.text for title in root.iter(f"{SVG}title") if title.text and ": " in title.text]
    assert sorted(text.split(" ", 1)[1] for text in bars) == ["completed: 2", "failed: 1"]


@pytest.mark.worker_thread
def test_durations_chart_counts_every_finished_run(celery_worker, user, divide_workflow, run) -> None:
    for n in (1, 2, 0):
        run(divide_workflow, {"n": n})
    root = ElementTree.fromstring(signed_in(user).get("/dashboard/charts/durations.svg").content)
    counts = [float(title.text.rsplit(": ", 1)[1]) for title in root.iter(f"{SVG}title") if ": " in title.text]
    assert sum(counts) == 3


def test_an_unknown_chart_is_404(transactional_db) -> None:
    assert signed_in(UserFactory()).get("/dashboard/charts/nothing.svg").status_code == 404


def test_the_site_has_a_favicon(transactional_db) -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
