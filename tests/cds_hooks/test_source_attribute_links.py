"""Every card links to its module version's HTI-1 source attributes, and the link opens (200)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from cds_hooks.cards import SAMPLE_EVIDENCE, CardSettings, build_card
from cds_hooks.matching import Match
from tests.cds_hooks.hook_requests import draft_medication, hook_request, prefetch_for

SEPSIS = "sepsis-adult"
LABELS = {"en": "Source attributes", "es": "Atributos de la fuente", "fr": "Attributs de la source"}


def source_link(card: dict) -> dict:
    """The card's one link labelled as the source attributes, in either language."""
    (link,) = [link for link in card["links"] if link["label"] in LABELS.values()]
    return link


def local_path(url: str) -> str:
    """The path and query of an absolute URL, for the test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.mark.parametrize(
    ("accept", "lang"), [("en", "en"), ("es-MX,es;q=0.9", "es"), ("fr-CA,fr;q=0.9", "fr")]
)
def test_a_hook_card_links_to_its_source_attributes_page(cds, fixture_store, accept, lang):
    body = hook_request(
        "order-select",
        SEPSIS,
        prefetch=prefetch_for(fixture_store, SEPSIS),
        draft_orders=[draft_medication(SEPSIS)],
    )
    response = cds.hook("bedside-order-select", body, **{"Accept-Language": accept})
    (card,) = [c for c in response.json["cards"] if "sepsis" in c["links"][0]["appContext"]]
    link = source_link(card)
    assert link == {
        "label": LABELS[lang],
        "url": f"http://localhost/modules/sepsis-hour-1-bundle/2.0.0/source-attributes?lang={lang}",
        "type": "absolute",
    }
    page = cds.client.get(local_path(link["url"]))  # no sign-in: whoever sees the card may open it
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.get_data(as_text=True)


def test_every_modules_card_link_opens_in_every_language(cds_app):
    library = cds_app.extensions["ui"].library
    settings = CardSettings(launch_url="http://localhost/launch.html")
    context = {"patientId": "example", "encounterId": "example", "userId": "Practitioner/example"}
    client = cds_app.test_client()
    opened = 0
    for module in library.modules.values():
        for language in module["languages"]:
            card = build_card(
                Match(module["id"], 0, (SAMPLE_EVIDENCE,)),
                module,
                hook_context=context,
                language=language,
                settings=settings,
            )
            url = source_link(card)["url"]
            assert f"/modules/{module['id']}/{module['version']}/" in url
            page = client.get(local_path(url))
            assert page.status_code == 200, url
            assert LABELS[language] in page.get_data(as_text=True)
            opened += 1
    assert opened >= 2 * 13


def test_the_link_keeps_a_public_base_url_with_a_path():
    settings = CardSettings(launch_url="https://ehr-apps.example/bedside/launch.html")
    assert settings.base_url == "https://ehr-apps.example/bedside"
