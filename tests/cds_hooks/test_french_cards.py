"""French cards: a client that prefers French gets French text from modules translated into it."""

from __future__ import annotations

from tests.cds_hooks.test_service import sepsis_order_select

FRENCH = "fr-CA,fr;q=0.9,en;q=0.5"


def test_french_when_the_client_prefers_it(cds, fixture_store, cds_app):
    response = cds.hook(
        "bedside-order-select", sepsis_order_select(fixture_store), **{"Accept-Language": FRENCH}
    )
    card = response.json["cards"][0]
    module = cds_app.extensions["cds"].engine.library.modules["sepsis-hour-1-bundle"]
    assert card["summary"] == module["card"]["summary"]["fr"]
    assert "Pourquoi cette carte apparaît" in card["detail"]
    assert card["links"][0]["label"] == "Ouvrir le cas court dans Bedside (FMC)"
    assert card["suggestions"][0]["label"] == module["card"]["suggestions"][0]["label"]["fr"]
    assert "apparaît".encode() in response.data  # UTF-8 JSON, not \\u escapes


def test_a_module_without_french_answers_in_english_for_a_french_client(cds_app):
    engine = cds_app.extensions["cds"].engine
    modules = engine.library.modules
    untranslated = next(m for m in modules.values() if "fr" not in m["languages"])
    assert engine.language_for(untranslated["id"], ["fr", "es"]) == "es"
    assert engine.language_for(untranslated["id"], ["fr"]) == "en"
    assert engine.language_for("sepsis-hour-1-bundle", ["fr", "es"]) == "fr"
