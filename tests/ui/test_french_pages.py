"""French: a complete catalogue, every learner page and certificate in French, the fallback note.

As for Spanish, each page is rendered after a full session and searched for the English text of
every catalogue message whose French differs, so a string added without its French, or printed
without gettext, fails here. A module not yet translated says so in French and shows its English.
"""

from __future__ import annotations

import io
import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.ledger.outputs import records
from app.settings import REPO_ROOT
from tests.dashboards.conftest import build_app
from tests.ui.helpers import SEPSIS, get, launch, post
from tests.ui.language_walk import learner_pages_in
from tests.ui.test_i18n import KEYWORDS, english_fragments, key
from tests.ui.test_poc_cycle import ask

CATALOG = REPO_ROOT / "app/translations/fr/LC_MESSAGES"
NBSP = "\u00a0"  # French puts a non-breaking space before : ; ? ! and inside « »
APOSTROPHE = "\u2019"  # the typographic apostrophe French text uses
FALLBACK = f"n{APOSTROPHE}est pas encore disponible en français{NBSP}; il est affiché en anglais."
# Messages whose French is spelled as the English (trademarked credit names stay in English).
SAME_IN_FRENCH = {
    ("%(num)d minute", "%(num)d minutes"),
    "2",
    "3",
    "4",
    "AAFP Prescribed Credit",
    "AAPA Category 1 CME Credit",
    "AMA PRA Category 1 Credit™",
    "Allergies",
    "Bedside",
    "Certain",
    "Code",
    "Date",
    "Date (UTC)",
    "Discrimination",
    "Discussion",
    "Grade A",
    "Lactate",
    "Minute %(number)d",
    "Module",
    "NPI %(npi)s",
    "Patient",
    "Points",
    "Question",
    "Questions",
    "Total",
    "Type",
    "Version %(version)s",
    "participation",
    "patients",
    "satisfaction",
    "sepsis",
    "version %(version)s",
}
LEARNER_SOURCES = (
    "[python: app/ui/**.py]\n[python: app/ledger/outputs/**.py]\n"
    "[jinja2: app/templates/ui/**.html]\n[jinja2: app/templates/ledger/**.html]\n"
)
ENGLISH_ELEMENT = r'<(a|span)\b[^>]*lang="en"[^>]*>[^<]*</\1>'  # an untranslated title, marked
DASHBOARD_SOURCES = "[python: app/dashboards/**.py]\n[jinja2: app/templates/dashboards/**.html]\n"


def extracted(sources: str) -> set[str | tuple]:
    """Every msgid the code and templates named by a Babel mapping use."""
    method_map, options_map = parse_mapping_cfg(io.StringIO(sources))
    found = extract_from_dir(str(REPO_ROOT), method_map, options_map, keywords=KEYWORDS)
    return {key(message) for _, _, message, _, _ in found}


def french_catalogue() -> dict[str | tuple, str | tuple]:
    """The French catalogue: msgid → translation (plurals as tuples), fuzzy entries left out."""
    with (CATALOG / "messages.po").open("rb") as handle:
        po = read_po(handle, locale="fr")
    return {key(m.id): key(m.string) for m in po if m.id and "fuzzy" not in m.flags}


def translated_away(sources: str) -> set[str | tuple]:
    """Every msgid of these sources whose French differs from its English."""
    french = french_catalogue()
    used = extracted(sources)
    assert used - set(french) == set()
    return {m for m in used if french[m] != m}


def test_every_ui_string_has_a_french_translation_and_the_mo_is_compiled():
    with (REPO_ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = extract_from_dir(str(REPO_ROOT), method_map, options_map, keywords=KEYWORDS)
    used = {key(message) for _, _, message, _, _ in found}
    french = french_catalogue()
    assert len(used) > 600
    assert used - set(french) == set()
    assert [msgid for msgid, value in french.items() if not all(value)] == []
    assert {msgid for msgid, value in french.items() if value == msgid} == SAME_IN_FRENCH
    with (CATALOG / "messages.mo").open("rb") as handle:
        mo = read_mo(handle)
    assert {key(m.id): key(m.string) for m in mo if m.id} == french
    assert mo.plural_forms == "nplurals=2; plural=(n > 1);"  # 0 and 1 take the singular


@pytest.fixture
def french_pages(ui_app, browser, auth_server, sepsis) -> dict[str, str]:
    """Every learner page and certificate, after a full session, rendered in French."""
    return learner_pages_in("fr", "Exact.", ui_app, browser, auth_server, sepsis)


def test_every_learner_page_and_certificate_is_all_french(french_pages, sepsis):
    messages = translated_away(LEARNER_SOURCES)
    assert len(messages) > 250
    for name, html in french_pages.items():
        assert '<html lang="fr">' in html, name
        visible = re.sub(r"<[^>]+>", " ", re.sub(ENGLISH_ELEMENT, " ", html))
        left = sorted({f for m in messages for f in english_fragments(m) if f in visible})
        assert left == [], name
        assert "pas encore disponible en français" not in html, name  # the module is French
    assert sepsis["title"]["fr"] in french_pages["case intro"]
    assert sepsis["case"]["questions"][0]["stem"]["fr"] in french_pages["question"]
    strength = f"Recommandation forte (SSC 2026){NBSP}; la certitude des preuves n{APOSTROPHE}a pas"
    assert strength in french_pages["poc read"]
    assert "Auteur et concepteur" in french_pages["case intro"]
    assert "Certificat de réalisation" in french_pages["certificate"]
    assert "Chinwe Okafor, MD" in french_pages["certificate"]
    assert "Relevé de FMC" in french_pages["printable transcript"]
    assert "à revoir" in french_pages["what next"]
    assert "Français" in french_pages["home"]  # the switcher names the language in French


def untranslated_module(ui_app) -> dict:
    """A shipped module that has no French yet."""
    modules = ui_app.extensions["ui"].library.modules.values()
    return next(module for module in modules if "fr" not in module["languages"])


def test_a_module_without_french_says_so_in_french_and_shows_english(ui_app, browser, auth_server):
    module = untranslated_module(ui_app)
    launch(browser, auth_server)
    intro = get(browser, f"/app/case/{module['id']}", query_string={"lang": "fr"})
    assert '<html lang="fr">' in intro and FALLBACK in intro
    assert module["title"]["en"] in intro
    first = post(browser, f"/app/case/{module['id']}/start", intro).headers["Location"]
    question = get(browser, first)
    assert FALLBACK in question
    assert module["case"]["questions"][0]["stem"]["en"] in question
    read_url = ask(browser).replace("/search", f"/read/{module['id']}")
    assert FALLBACK in get(browser, read_url)


def test_the_fallback_note_shows_only_when_the_module_lacks_the_page_language(
    ui_app, browser, auth_server
):
    module = untranslated_module(ui_app)
    launch(browser, auth_server)
    english = get(browser, f"/app/case/{module['id']}", query_string={"lang": "en"})
    spanish = get(browser, f"/app/case/{module['id']}", query_string={"lang": "es"})
    french = get(browser, f"/app/case/{SEPSIS}", query_string={"lang": "fr"})
    assert "language-fallback" not in english + spanish + french


def test_every_dashboard_page_is_all_french(instance_path):
    client = build_app(instance_path / "demo", demo=True).test_client()
    messages = translated_away(DASHBOARD_SOURCES)
    assert len(messages) > 60
    for url in ("/dashboards/?lang=fr", "/dashboards/clinicians/C03?lang=fr&cases=mine"):
        html = client.get(url).get_data(as_text=True)
        assert '<html lang="fr">' in html, url
        left = [f for m in messages for f in english_fragments(m) if f in html]
        assert left == [], url
        assert "Données de démonstration synthétiques" in html


def test_ledger_outputs_write_french_activity_labels():
    assert records.pick_language("fr-CA") == "fr"
    assert records.activity_label("case", "fr") == "Cas clinique"
    assert records.activity_label("poc", "fr") == "Apprentissage au point de soins"
