"""English and Spanish: the language choice, Spanish pages and content, a complete catalogue."""

from __future__ import annotations

import io
import re
from html import unescape

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.settings import REPO_ROOT
from tests.dashboards.conftest import ISSUER, build_app, save_synthetic, sign_in
from tests.smart.helpers import set_cookies
from tests.ui.helpers import SEPSIS, get, launch, post, section, start_case
from tests.ui.test_poc_cycle import ask

CATALOG = REPO_ROOT / "app/translations/es/LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


def test_lang_es_is_remembered_in_a_small_lax_cookie(browser, auth_server):
    launch(browser, auth_server)
    response = browser.get("/app/", query_string={"lang": "es"})
    [cookie] = [c for c in set_cookies(response) if c.startswith("bedside_lang=")]
    assert cookie.startswith("bedside_lang=es;")
    assert "samesite=lax" in cookie.lower() and "httponly" in cookie.lower()
    page = get(browser, "/app/transcript")  # no ?lang= any more: the cookie decides
    assert '<html lang="es">' in page
    assert "Mis créditos" in page


def test_accept_language_picks_spanish_without_a_choice(browser, auth_server):
    launch(browser, auth_server)
    page = get(browser, "/app/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in page
    assert "Biblioteca de casos" in page
    english = get(browser, "/app/", headers={"Accept-Language": "fr-FR,en;q=0.5"})
    assert '<html lang="en">' in english


def test_the_case_in_spanish_ui_and_module_text(browser, auth_server, sepsis):
    launch(browser, auth_server, SEPSIS)
    intro = get(browser, f"/app/case/{SEPSIS}", query_string={"lang": "es"})
    assert sepsis["title"]["es"] in intro
    assert sepsis["disclosures"]["statement"]["es"] in intro
    assert "Declaración de conflictos de interés" in intro
    assert "75 % de respuestas correctas" in intro
    assert "Borrador: aún no revisado por un clínico" in intro
    assert "0,25 AMA PRA Category 1 Credit™" in intro
    for english in ("Disclosures", "Pass mark", "start the case", "Draft:"):
        assert english not in intro
    first = start_case(browser)
    question = get(browser, first)
    assert sepsis["case"]["vignette"]["es"] in question
    assert sepsis["case"]["questions"][0]["stem"]["es"] in question
    facts = section(question, "patient-facts")
    assert "De la historia clínica de este paciente" in facts
    assert "3,1 mmol/L" in facts and "hace 40 minutos" in facts
    choice = sepsis["case"]["questions"][0]["answer"]
    post(browser, first, question, option=choice)
    feedback = get(browser, first)
    assert "Correcto." in feedback and "Justificación" in feedback
    assert sepsis["case"]["questions"][0]["rationale"]["es"][:60] in feedback


def test_the_point_of_care_pages_in_spanish(browser, auth_server, sepsis):
    launch(browser, auth_server)
    assert "Haga una pregunta clínica" in get(browser, "/app/poc/new?lang=es")
    search_url = ask(browser)
    results = get(browser, search_url, query_string={"q": "hemocultivos sepsis"})
    assert "Buscar en la biblioteca de guías" in results
    assert sepsis["title"]["es"] in results
    read = get(browser, search_url.replace("/search", f"/read/{SEPSIS}"))
    assert "Resumen de la guía" in read
    assert sepsis["guideline"]["recommendation"]["es"] in read
    assert "Registrarlo; lo aplicaré más tarde<" in read  # not "más tarde hoy": up to 3 days


def test_the_no_session_page_is_translated_too(browser):
    page = get(browser, "/app/", status=401, query_string={"lang": "es"})
    assert "Abra Bedside desde su historia clínica electrónica" in page


def test_every_ui_string_has_a_spanish_translation_and_the_mo_is_compiled():
    with (REPO_ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    extracted = {
        key(message)
        for _, _, message, _, _ in extract_from_dir(
            str(REPO_ROOT), method_map, options_map, keywords=KEYWORDS
        )
    }
    with (CATALOG / "messages.po").open("rb") as handle:
        po = read_po(handle, locale="es")
    translated = {key(m.id): key(m.string) for m in po if m.id and "fuzzy" not in m.flags}
    assert len(extracted) > 200
    assert extracted - set(translated) == set()
    assert [key for key, value in translated.items() if not all(value)] == []
    with (CATALOG / "messages.mo").open("rb") as handle:
        mo = read_mo(handle)
    compiled = {key(m.id): key(m.string) for m in mo if m.id}
    assert compiled == translated


def key(text: str | tuple | list) -> str | tuple:
    """A catalogue message id or string, with plurals as tuples."""
    return text if isinstance(text, str) else tuple(text)


DASHBOARD_SOURCES = "[python: app/dashboards/**.py]\n[jinja2: app/templates/dashboards/**.html]\n"


def dashboard_messages() -> set[str]:
    """Every msgid the dashboards' code and templates use."""
    method_map, options_map = parse_mapping_cfg(io.StringIO(DASHBOARD_SOURCES))
    found = extract_from_dir(str(REPO_ROOT), method_map, options_map, keywords=KEYWORDS)
    return {message for _, _, message, _, _ in found}


def english_fragments(message: str | tuple[str, ...]) -> list[str]:
    """The literal parts of a msgid (each plural form) between its placeholders, as on a page."""
    forms = message if isinstance(message, tuple) else (message,)
    return [
        part.strip()
        for form in forms
        for part in re.split(r"%\(\w+\)[sd]", form.replace("%%", "%"))
        if len(part.strip()) >= 12
    ]


def spanish_dashboard_pages(instance_path) -> dict[str, str]:
    """Every dashboard page in Spanish: demo programme and clinician, no data, 401, 403."""
    demo = build_app(instance_path / "demo", demo=True).test_client()
    live_app = build_app(instance_path / "live", demo=False)
    signed_in = live_app.test_client()
    sign_in(live_app, signed_in, f"{ISSUER}/Practitioner/C03")
    stored_app = build_app(instance_path / "stored", demo=False)
    save_synthetic(stored_app)
    stored = stored_app.test_client()
    sign_in(stored_app, stored, f"{ISSUER}/Practitioner/C03")
    pages = {
        "programme": demo.get("/dashboards/?lang=es"),
        "clinician": demo.get("/dashboards/clinicians/C03?lang=es&cases=mine"),
        "other": demo.get("/dashboards/clinicians/C05?lang=es"),
        "no data": signed_in.get("/dashboards/?lang=es"),
        "no session": live_app.test_client().get("/dashboards/?lang=es"),
        "own programme": stored.get("/dashboards/?lang=es"),
        "own page": stored.get("/dashboards/clinicians/C03?lang=es&cases=mine"),
        "forbidden": stored.get("/dashboards/clinicians/C05?lang=es"),
    }
    return {name: response.get_data(as_text=True) for name, response in pages.items()}


def test_every_dashboard_string_is_translated_and_no_english_is_left_on_the_pages(instance_path):
    with (CATALOG / "messages.po").open("rb") as handle:
        po = read_po(handle, locale="es")
    spanish = {m.id: m.string for m in po if m.id and "fuzzy" not in m.flags}
    messages = dashboard_messages()
    assert len(messages) > 60
    assert sorted(m for m in messages if not spanish.get(m)) == []
    pages = spanish_dashboard_pages(instance_path)
    for name, html in pages.items():
        assert '<html lang="es">' in html, name
        left = [f for m in messages for f in english_fragments(m) if f in html]
        assert left == [], name
    assert "Nivel de Moore 5: desempeño en la práctica" in pages["programme"]
    assert "Datos sintéticos de demostración" in pages["programme"]
    assert "IC 95% " in pages["programme"] and "menos de 5 (oculto)" in pages["programme"]
    assert "Mis casos" in pages["clinician"] and "cumplido" in pages["clinician"]
    assert "Todavía no se han cargado datos de la práctica" in pages["no data"]
    assert (
        "Menos de 5 profesionales completaron Resfriado común y bronquitis aguda en adultos: sin "
        "antibiótico en may 2026 (oculto)"
    ) in pages["programme"]
    assert "menos de 5 casos (oculto)" in pages["programme"]
    assert "Antes y después de un módulo vinculado, en conjunto" in pages["programme"]
    assert "un colega: " in pages["clinician"]
    assert "Mi panel" in pages["own programme"]
    assert "no tienen identificadores de pacientes" in pages["own page"]
    assert "Este panel es solo para su profesional" in pages["forbidden"]


def test_the_language_links_keep_the_query_even_with_url_for_s_own_names(browser, auth_server):
    """`endpoint`, `_method` or a path value's name in the query once made the switcher a 500."""
    launch(browser, auth_server)
    paths = {
        "es": "/app/?endpoint=x&_method=POST&q=a+b",
        "fr": f"/app/discuss/{SEPSIS}?module_id=x",
    }
    for code, path in paths.items():
        page = get(browser, path)
        [link] = re.findall(rf'href="([^"]*)" lang="{code}"', page)
        switched = unescape(link)
        assert switched == f"{path}&lang={code}"
        assert f'<html lang="{code}">' in get(browser, switched)
