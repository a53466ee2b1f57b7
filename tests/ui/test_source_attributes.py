"""A module version's HTI-1 source attributes page: public, English and Spanish, HTML and JSON."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

PAGE = "/modules/hfref-gdmt/1.2.0/source-attributes"
ATTRIBUTE_TERMS = {
    "en": [
        "Bibliographic citation of the intervention (clinical research or guideline)",
        "Developer of the intervention (translation from clinical research or guideline)",
        "Funding source of the technical implementation for the intervention(s) development",
        "Release and, if applicable, revision dates of the intervention or reference source",
        "Use of these data elements, as expressed in the standards in 45 CFR 170.213",
    ],
    "es": [
        "Cita bibliográfica de la intervención (investigación clínica o guía)",
        "Desarrollador de la intervención (traducción de la investigación clínica o de la guía)",
        "Fuente de financiación de la implementación técnica para el desarrollo de la(s) "
        "intervención(es)",
        "Fechas de publicación y, si procede, de revisión de la intervención o de la fuente de "
        "referencia",
        "Uso de estos elementos de datos, tal como se expresan en los estándares de 45 CFR 170.213",
    ],
}
ELEMENT_TERMS = {
    "en": ["Use of race", "Use of date of birth", "Use of health status assessments data"],
    "es": [
        "Uso de la raza",
        "Uso de la fecha de nacimiento",
        "Uso de datos de evaluaciones del estado de salud",
    ],
}


class DefinitionList(HTMLParser):
    """Collect the text of every <dt> and <dd> (nested lists included), in order."""

    def __init__(self):
        super().__init__()
        self.terms: list[str] = []
        self.details: list[str] = []
        self.open: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        if tag in {"dt", "dd"}:
            self.open.append([tag, ""])

    def handle_endtag(self, tag):
        if tag in {"dt", "dd"} and self.open:
            kind, text = self.open.pop()
            (self.terms if kind == "dt" else self.details).append(" ".join(text.split()))

    def handle_data(self, data):
        for item in self.open:
            item[1] += data


def definitions(html: str) -> DefinitionList:
    """Parse a page's definition lists."""
    parser = DefinitionList()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_page_shows_all_five_attributes_without_sign_in(ui_app, lang):
    response = ui_app.test_client().get(f"{PAGE}?lang={lang}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    page = definitions(html)
    for term in ATTRIBUTE_TERMS[lang] + ELEMENT_TERMS[lang]:
        assert term in page.terms, (term, page.terms)
    citation, developer, funding, dates = page.details[:4]
    data_use = page.details[-1]  # the outer <dd> closes after the nine inside it
    assert "AHA/ACC/HFSA" in citation and "doi:10.1161/CIR.0000000000001063" in citation
    assert "Bedside" in developer and "Bedside editorial team" in developer
    assert "Bedside" in funding
    assert "2026-12-06" in dates and "2022" in dates
    reads = {"en": "reads", "es": "lee"}[lang]
    assert f"triggers.age {reads} Patient.birthDate" in data_use


def test_the_spanish_page_shows_the_spanish_developer_and_answers(ui_app):
    html = ui_app.test_client().get(f"{PAGE}?lang=es").get_data(as_text=True)
    page = definitions(html)
    uses = dict(zip(page.terms[-9:], page.details[4:13], strict=True))
    assert uses["Uso de la raza"] == "No"
    assert uses["Uso de la fecha de nacimiento"].startswith("Sí")
    assert "El proyecto de código abierto Bedside" in html
    assert "Sin financiación externa" in html


def test_the_json_form_carries_the_same_attributes(ui_app):
    response = ui_app.test_client().get(f"{PAGE}?format=json")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["module"], body["version"]) == ("hfref-gdmt", "1.2.0")
    assert body["citation"]["url"] == "https://doi.org/10.1161/CIR.0000000000001063"
    assert body["dates"]["released"] == "2026-12-06"
    assert body["funding"]["en"].startswith("No external funding")
    assert body["data_use"]["date_of_birth"] == {
        "used": True,
        "read_by": [{"trigger": "triggers.age", "reads": "Patient.birthDate"}],
    }
    assert body["data_use"]["race"] == {"used": False, "read_by": []}
    assert len(body["data_use"]) == 9


def test_a_module_without_age_trigger_says_no_to_date_of_birth(ui_app):
    body = (
        ui_app.test_client()
        .get("/modules/penicillin-allergy-evaluation/1.2.0/source-attributes?format=json")
        .get_json()
    )
    assert not any(use["used"] for use in body["data_use"].values())


@pytest.mark.parametrize(
    "path",
    [
        "/modules/no-such-module/1.0.0/source-attributes",
        "/modules/hfref-gdmt/9.9.9/source-attributes",
        "/modules/hfref-gdmt/%3Cscript%3E/source-attributes",
    ],
)
def test_an_unknown_module_or_version_is_a_404_page_or_json_error(ui_app, path):
    client = ui_app.test_client()
    page = client.get(path)
    assert page.status_code == 404
    assert "text/html" in page.content_type
    assert "<script>" not in page.get_data(as_text=True)
    json_error = client.get(f"{path}?format=json")
    assert json_error.status_code == 404
    assert json_error.get_json()["error"]["code"] == "not_found"


def test_the_page_is_accessible_html(ui_app):
    html = ui_app.test_client().get(PAGE).get_data(as_text=True)
    assert re.search(r"<h1[^>]*>Source attributes: HFrEF", html)
    assert html.count("<dl") == 2  # the attributes, and the data elements inside them
    assert 'aria-labelledby="source-attributes-title"' in html
