"""Every learner page and certificate in Spanish: no English message left, content labels too.

Each page is rendered in Spanish after a full session (a case, a point-of-care cycle, a name for
certificates, a review due) and searched for the English text of every catalogue message whose
Spanish differs, so a string added without its translation, or printed without gettext, fails here.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.library.loader import load_library
from app.settings import REPO_ROOT
from app.ui import facts, labels
from tests.ui.language_walk import learner_pages_in
from tests.ui.test_i18n import CATALOG, KEYWORDS, english_fragments

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
    return learner_pages_in("es", "Correcto.", ui_app, browser, auth_server, sepsis)


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
