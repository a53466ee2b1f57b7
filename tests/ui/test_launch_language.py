"""The app's language: the EHR launch's, then ?lang=, the cookie, the profile, the browser.

The EHR names the user's languages in the token response (`ui_locales`, space-separated BCP 47 tags
as OpenID Connect writes them) or in the id_token's `locale` claim; the callback then opens the app
with that `?lang=`, which the cookie keeps, so a later choice in the switcher still wins.
"""

from __future__ import annotations

import pytest

from app.i18n import best_language
from app.smart.oauth import launch_locales
from tests.smart.helpers import ISS, new_launch
from tests.ui.helpers import get, launch, post


def launch_in(browser, server, ui_locales: str | None, **headers) -> str:
    """Run an EHR launch whose token names ui_locales; return where the callback sends the app."""
    launch_id = new_launch(server, ui_locales=ui_locales)
    step = browser.get("/smart/launch", query_string={"iss": ISS, "launch": launch_id})
    for _ in range(2):
        assert step.status_code == 302, step.get_data(as_text=True)
        step = browser.get(step.headers["Location"], headers=headers)
    assert step.status_code == 302, step.get_data(as_text=True)
    return step.headers["Location"]


def test_the_ehr_launch_language_opens_the_app_in_french_and_is_kept(browser, auth_server):
    opened = launch_in(browser, auth_server, "fr-CA en-US")
    assert "lang=fr" in opened
    page = get(browser, opened, headers={"Accept-Language": "es"})
    assert '<html lang="fr">' in page and "Se déconnecter" in page
    assert '<html lang="fr">' in get(browser, "/app/", headers={"Accept-Language": "es"})


def test_the_switcher_still_wins_after_a_french_launch(browser, auth_server):
    get(browser, launch_in(browser, auth_server, "fr"))
    assert '<html lang="es">' in get(browser, "/app/", query_string={"lang": "es"})
    assert '<html lang="es">' in get(browser, "/app/")


@pytest.mark.parametrize("ui_locales", [None, "de-DE", "zz"])
def test_a_launch_without_a_known_language_leaves_the_browser_to_choose(
    browser, auth_server, ui_locales
):
    opened = launch_in(browser, auth_server, ui_locales)
    assert "lang=" not in opened
    page = get(browser, opened, headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in page


def test_the_profile_language_comes_before_the_browser_and_after_the_cookie(ui_app, auth_server):
    first = ui_app.test_client()
    launch(first, auth_server)
    page = get(first, "/app/profile")
    post(first, "/app/profile", page, specialty="", language="fr")
    other_browser = ui_app.test_client()  # same clinician, no language cookie yet
    launch(other_browser, auth_server)
    spanish_browser = {"Accept-Language": "es"}
    assert '<html lang="fr">' in get(other_browser, "/app/", headers=spanish_browser)
    get(other_browser, "/app/", query_string={"lang": "en"})  # the cookie now says English
    assert '<html lang="en">' in get(other_browser, "/app/", headers=spanish_browser)


def test_without_launch_cookie_or_profile_the_browser_language_decides(browser, auth_server):
    launch(browser, auth_server)
    assert '<html lang="fr">' in get(browser, "/app/", headers={"Accept-Language": "fr-BE"})
    assert '<html lang="en">' in get(browser, "/app/", headers={"Accept-Language": "de"})


def test_launch_locales_read_ui_locales_then_the_openid_locale_claim():
    token = {"ui_locales": "fr-CA  en", "access_token": "x"}
    assert launch_locales(token, {"locale": "es-MX"}) == ["fr-CA", "en", "es-MX"]
    assert launch_locales({"ui_locales": 7}, {"locale": ["fr"]}) == []
    assert best_language(launch_locales({}, {"locale": "fr_FR"})) == "fr"


@pytest.mark.parametrize(
    ("tags", "language"),
    [(["fr-CA"], "fr"), (["de-DE", "es-419", "fr"], "es"), (["de", "it"], None), ([], None)],
)
def test_best_language_takes_the_first_tag_bedside_speaks(tags, language):
    assert best_language(tags) == language
