"""Every learner page and certificate in Spanish: no English message left, content labels too.

Each page is rendered in Spanish after a full session (a case, a point-of-care cycle, a name for
certificates, a review due) and searched for the English text of every catalogue message whose
Spanish differs, so a string added without its translation, or printed without gettext, fails here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.learning.profile_store import AnswerEvent
from app.library.loader import load_library
from app.settings import REPO_ROOT
from app.ui import facts, labels
from tests.ui.helpers import (
    SEPSIS,
    get,
    launch,
    learner,
    post,
    result_url,
    start_case,
)
from tests.ui.test_certificates import NAME
from tests.ui.test_i18n import CATALOG, KEYWORDS, english_fragments
from tests.ui.test_poc_cycle import APPLICATION, ask

LEARNER_SOURCES = (
    "[python: app/ui/**.py]\n[python: app/ledger/outputs/**.py]\n"
    "[jinja2: app/templates/ui/**.html]\n[jinja2: app/templates/ledger/**.html]\n"
)


def translated_away() -> set[str | tuple]:
    """Every learner-page msgid whose Spanish differs from its English."""
    import io

    method_map, options_map = parse_mapping_cfg(io.StringIO(LEARNER_SOURCES))
    found = extract_from_dir(str(REPO_ROOT), method_map, options_map, keywords=KEYWORDS)
    used = {m if isinstance(m, str) else tuple(m) for _, _, m, _, _ in found}
    with (CATALOG / "messages.po").open("rb") as handle:
        po = read_po(handle, locale="es")
    spanish = {(m.id if isinstance(m.id, str) else tuple(m.id)): m.string for m in po if m.id}
    assert used - set(spanish) == set()  # every msgid used has a Spanish entry
    return {m for m in used if spanish[m] != (m if isinstance(m, str) else list(m))}


@pytest.fixture
def spanish_pages(ui_app, browser, auth_server, sepsis) -> dict[str, str]:
    """Every learner page and certificate, after a full session, rendered in Spanish."""
    launch(browser, auth_server, SEPSIS)
    get(browser, "/app/", query_string={"lang": "es"})  # the choice is kept in a cookie
    first = start_case(browser)
    pages = {"case intro": get(browser, f"/app/case/{SEPSIS}"), "question": get(browser, first)}
    last = answer_all_es(browser, first, sepsis)
    pages["feedback"] = last
    result = post(browser, result_url(first), last).headers["Location"]
    pages["result"] = get(browser, result)
    pages["poc new"] = get(browser, "/app/poc/new")
    search = ask(browser)
    pages["poc search"] = get(browser, search, query_string={"q": "sepsis"})
    read_url = search.replace("/search", f"/read/{SEPSIS}")
    pages["poc read"] = get(browser, read_url)
    apply_url = post(browser, read_url, pages["poc read"], next="now").headers["Location"]
    pages["poc apply"] = get(browser, apply_url)
    done = post(browser, apply_url, pages["poc apply"], **APPLICATION).headers["Location"]
    pages["poc done"] = get(browser, done)
    profile = get(browser, "/app/profile")
    post(browser, "/app/profile/certificate-name", profile, **NAME, consent="yes")
    past = datetime.now(UTC) - timedelta(days=1)
    ui_app.extensions["learning"].apply_answer(
        learner(ui_app), AnswerEvent("a-due", SEPSIS, "q1", False, "low", past)
    )
    for name, url in {
        "home": "/app/",
        "profile": "/app/profile",
        "what next": "/app/next",
        "transcript": "/app/transcript",
        "delete": "/app/profile/delete",
        "printable transcript": "/ledger/transcript",
        "certificate": "/ledger/certificates/1",
        "period certificate": "/ledger/certificates/period",
    }.items():
        pages[name] = get(browser, url)
    return pages


def answer_all_es(browser, first: str, module: dict) -> str:
    """Answer every question right, as answer_all does, but in Spanish ("Correcto.")."""
    url, html = first, ""
    for number, question in enumerate(module["case"]["questions"], start=1):
        url = re.sub(r"/q/\d+$", f"/q/{number}", url)
        post(browser, url, get(browser, url), option=question["answer"])
        html = get(browser, url)
        assert "Correcto." in html
    return html


def test_every_learner_page_and_certificate_is_all_spanish(spanish_pages, sepsis):
    messages = translated_away()
    assert len(messages) > 250
    for name, html in spanish_pages.items():
        assert '<html lang="es">' in html, name
        visible = re.sub(r"<[^>]+>", " ", html)
        left = sorted({f for m in messages for f in english_fragments(m) if f in visible})
        assert left == [], name
    assert "Lactato" in spanish_pages["question"]  # a patient-fact heading
    strength = "Recomendación fuerte (SSC 2026); la certeza de la evidencia no se verificó"
    assert strength in spanish_pages["poc read"]
    assert "Autor y planificador" in spanish_pages["case intro"]
    assert "Chinwe Okafor, MD" in spanish_pages["certificate"]
    assert "pendiente de repaso" in spanish_pages["what next"]


def test_every_shipped_content_label_has_a_translation_marker():
    library = load_library(REPO_ROOT / "content")
    fact_titles = {str(m._args[0]) for m in facts.FACT_TITLES}
    strengths = {str(m._args[0]) for m in labels.STRENGTHS}
    disclosure = {str(m._args[0]) for m in labels.DISCLOSURE_TEXTS}
    for module in library.modules.values():
        for url in module.get("case", {}).get("patient_facts", []):
            assert library.value_sets[url].title in fact_titles, url
        assert module["guideline"]["strength"] in strengths, module["id"]
        for person in module["disclosures"]["people"]:
            assert {person["name"], person["role"]} <= disclosure, module["id"]
