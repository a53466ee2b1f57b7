"""The point-of-care search page: the question asked once, real typos, synonyms, honest misses."""

from __future__ import annotations

import html
import re

from tests.smart.helpers import query_of
from tests.ui.helpers import SEPSIS, get, launch, post, section
from tests.ui.test_launch_binding import launch_patient
from tests.ui.test_poc_cycle import QUESTION, ask

OTITIS = "aom-children"


def keyword_box(page: str) -> str:
    """The value the keyword box shows."""
    return html.unescape(re.search(r'<input id="search-q"[^>]* value="([^"]*)"', page).group(1))


def hit_ids(page: str) -> list[str]:
    """The module ids the result list links to, best first."""
    return re.findall(r'href="/app/poc/[^/"]+/read/([^?"]+)', section(page, "search-hits"))


def test_the_question_asked_is_the_first_search_with_nothing_typed_again(browser, auth_server):
    launch(browser, auth_server)
    page = get(browser, ask(browser))
    assert keyword_box(page) == QUESTION
    assert hit_ids(page)[0] == SEPSIS
    assert "launch=" in section(page, "search-hits")  # results stay bound to this launch
    assert "Showing results for" not in page  # nothing was replaced


def test_the_keywords_typed_replace_the_question(browser, auth_server):
    launch(browser, auth_server)
    page = get(browser, ask(browser), query_string={"q": "otitis amoxicillin"})
    assert keyword_box(page) == "otitis amoxicillin"
    assert hit_ids(page)[0] == OTITIS


def test_a_real_typo_in_a_drug_name_is_forgiven_and_said(browser, auth_server):
    launch(browser, auth_server)
    page = get(browser, ask(browser), query_string={"q": "amoxicilin"})
    assert "Showing results for “amoxicillin”, the closest words in the library." in page
    assert OTITIS in hit_ids(page)


def test_a_word_far_from_every_library_word_is_not_guessed_and_the_page_says_so(
    browser, auth_server
):
    launch(browser, auth_server)
    page = get(browser, ask(browser), query_string={"q": "ñandú"})
    assert "No word in the library is close to “ñandú”, so it was left out" in page
    assert "Nothing in the library matches “ñandú”." in page
    assert "Showing results for" not in page
    assert "search-hits" not in page


def test_brand_and_spanish_words_find_the_modules_that_name_their_generic(browser, auth_server):
    launch(browser, auth_server)
    search_url = ask(browser)
    eliquis = get(browser, search_url, query_string={"q": "Eliquis"})
    assert "Showing results for “apixaban”" in eliquis
    assert set(hit_ids(eliquis)[:2]) == {"af-anticoagulation", "doac-vte-ckd"}  # both teach it
    spanish = get(browser, search_url, query_string={"q": "neumonía"})
    assert hit_ids(spanish)[0] == "cap-adults-outpatient"


def test_a_spanish_question_searches_the_spanish_text(browser, auth_server):
    launch(browser, auth_server)
    get(browser, "/app/", query_string={"lang": "es"})
    page = get(browser, ask(browser, "¿Hemocultivos antes del antibiótico en la sepsis?"))
    assert hit_ids(page)[0] == SEPSIS
    brand = get(browser, ask(browser), query_string={"q": "Amoxil"})
    assert "Se muestran resultados para «amoxicilina»" in brand
    assert OTITIS in hit_ids(brand)


def test_empty_and_oversized_keywords_are_a_readable_page(browser, auth_server):
    launch(browser, auth_server)
    search_url = ask(browser)
    assert "search-hits" not in get(browser, search_url, query_string={"q": ""})
    page = get(browser, search_url, query_string={"q": "sepsis " + "x" * 5000})
    assert hit_ids(page)[0] == SEPSIS


def test_the_time_left_is_said_once_and_rightly(browser, auth_server):
    launch(browser, auth_server)
    search_url = ask(browser)
    read_url = search_url.replace("/search", f"/read/{SEPSIS}")
    read = get(browser, read_url)
    assert "now or later (time left: 3 days)." in read
    assert "later today" not in read
    apply = get(browser, post(browser, read_url, read, next="now").headers["Location"])
    assert "You can do this now or later, from the start page (time left: 3 days)." in apply
    assert "later today" not in apply
    spanish = get(browser, read_url, query_string={"lang": "es"})
    assert "ahora o más tarde (tiempo restante: 3 días)." in spanish
    assert "hoy" not in section(spanish, "record-source")


def submit_search(browser, page: str, keywords: str) -> str:
    """Submit the keyword form as a browser does: the action's path, then the form's fields."""
    form = re.search(
        r'<form method="get" action="([^"?]*)[^"]*"[^>]*role="search">(.*?)</form>', page, re.S
    )
    fields = dict(re.findall(r'<input[^>]* name="([^"]+)"[^>]* value="([^"]*)"', form.group(2)))
    return get(browser, form.group(1), query_string={**fields, "q": keywords})


def test_searching_again_stays_bound_to_the_tabs_launch(browser, auth_server):
    first_tab = launch(browser, auth_server).headers["Location"]
    bound = f"launch={query_of(first_tab)['launch']}"
    search_url = ask(browser)
    page = get(browser, f"{search_url}?{bound}")
    launch_patient(browser, auth_server, "hfref-adult")  # another tab, another patient
    results = submit_search(browser, page, "lactate")
    assert "Harlow" in section(results, "patient-banner")
    assert f"/read/{SEPSIS}?q=lactate&amp;{bound}" in section(results, "search-hits")
