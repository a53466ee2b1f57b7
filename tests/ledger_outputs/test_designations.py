"""Designation statements per credit type: the AMA's built in, the others only as configured."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from app import create_app
from app.errors import ConfigError
from app.ledger.outputs import views
from app.ledger.outputs.certificates import activity_certificate, render_certificate
from app.ledger.outputs.settings import Accreditation, output_settings
from tests.ledger_outputs.world import modules

PROVIDER = "Example Medical Society"
STATEMENT = "Example Medical Society is accredited by the ACCME."
AAFP_STATEMENT = (
    "This enduring material has been reviewed and is acceptable for up to {amount} Prescribed "
    "credit(s) by the American Academy of Family Physicians. {provider} is the provider."
)
AAFP_PRINTED = (
    "This enduring material has been reviewed and is acceptable for up to 0.25 Prescribed "
    "credit(s) by the American Academy of Family Physicians. Example Medical Society is the "
    "provider."
)
AMA_PRINTED = (
    "Example Medical Society designates this enduring material for a maximum of 0.25 "
    "AMA PRA Category 1 Credit™."
)


def designations_file(tmp_path, statements: object) -> str:
    """Write a designations file and return its path."""
    path = tmp_path / "designations.json"
    path.write_text(json.dumps(statements), encoding="utf-8")
    return str(path)


def af_certificate(outputs_app, store, world, accreditation: Accreditation, language="en") -> str:
    """Alice's atrial fibrillation certificate (AMA and AAFP credit) as HTML."""
    cert = activity_certificate(
        store,
        world.learners["alice"],
        world.sequences["alice-af"][0],
        library=modules(),
        accreditation=accreditation,
        language=language,
    )
    with outputs_app.test_request_context():
        return render_certificate(cert)


def test_aafp_credit_gets_no_ama_designation_without_its_own_statement(outputs_app, store, world):
    html = af_certificate(outputs_app, store, world, Accreditation(PROVIDER, STATEMENT))
    assert AMA_PRINTED in html
    assert "AAFP Prescribed Credit. Physicians" not in html
    assert html.count("Physicians should claim only") == 1
    assert html.count('class="designation"') == 1


def test_a_configured_aafp_statement_prints_as_written_with_amount_and_provider(
    outputs_app, store, world, tmp_path
):
    config = {
        "ACCREDITATION_PROVIDER": PROVIDER,
        "ACCREDITATION_STATEMENT": STATEMENT,
        "ACCREDITATION_DESIGNATIONS": designations_file(
            tmp_path, {"aafp-prescribed": AAFP_STATEMENT}
        ),
    }
    accreditation = output_settings(config).accreditation
    html = af_certificate(outputs_app, store, world, accreditation)
    assert AAFP_PRINTED in html and AMA_PRINTED in html
    spanish = af_certificate(outputs_app, store, world, accreditation, language="es")
    assert AAFP_PRINTED.replace("0.25", "0,25") in spanish  # the provider's wording, untranslated
    assert "designa esta actividad" in spanish  # the built-in AMA statement, translated


AAFP_SPANISH = (
    "Este {format} ha sido revisado y es aceptable por hasta {amount} {credit} de la American "
    "Academy of Family Physicians."
)
AAFP_FRENCH = "Ce {format} est reconnu pour {amount} {credit} par l'American Academy."


def test_a_statement_given_per_language_prints_in_the_certificates_language_with_its_words(
    outputs_app, store, world, tmp_path
):
    statements = {"aafp-prescribed": {"en": AAFP_STATEMENT, "es": AAFP_SPANISH}}
    config = {"ACCREDITATION_PROVIDER": PROVIDER, "ACCREDITATION_STATEMENT": STATEMENT}
    config["ACCREDITATION_DESIGNATIONS"] = designations_file(tmp_path, statements)
    accreditation = output_settings(config).accreditation
    spanish = af_certificate(outputs_app, store, world, accreditation, language="es")
    assert (
        "Este material duradero ha sido revisado y es aceptable por hasta 0,25 AAFP Prescribed "
        "Credit de la American Academy of Family Physicians."
    ) in spanish
    assert "enduring material" not in spanish
    english = af_certificate(outputs_app, store, world, accreditation)
    assert AAFP_PRINTED in english and "material duradero" not in english
    french = af_certificate(outputs_app, store, world, accreditation, language="fr")
    assert AAFP_PRINTED in french  # no French statement: the English one, with English words


def test_a_statement_given_in_one_other_language_fills_in_that_languages_words(
    outputs_app, store, world, tmp_path
):
    statements = {"aafp-prescribed": {"fr": AAFP_FRENCH}}
    config = {"ACCREDITATION_PROVIDER": PROVIDER, "ACCREDITATION_STATEMENT": STATEMENT}
    config["ACCREDITATION_DESIGNATIONS"] = designations_file(tmp_path, statements)
    accreditation = output_settings(config).accreditation
    english = af_certificate(outputs_app, store, world, accreditation)
    assert "Ce support durable est reconnu pour 0,25 AAFP Prescribed Credit" in english
    assert AMA_PRINTED in english  # the built-in statement stays in the certificate's language


def test_a_regional_statement_prints_on_a_certificate_in_its_language(
    outputs_app, store, world, tmp_path
):
    statements = {"aafp-prescribed": {"es-MX": AAFP_SPANISH}}
    config = {"ACCREDITATION_PROVIDER": PROVIDER, "ACCREDITATION_STATEMENT": STATEMENT}
    config["ACCREDITATION_DESIGNATIONS"] = designations_file(tmp_path, statements)
    accreditation = output_settings(config).accreditation
    for language in ("es", "en"):  # English has none: the first given prints
        html = af_certificate(outputs_app, store, world, accreditation, language=language)
        assert "Este material duradero ha sido revisado y es aceptable por hasta 0" in html


def test_a_certificate_page_prints_the_configured_statement(
    outputs_app, world, monkeypatch, tmp_path
):
    outputs_app.config["ACCREDITATION_PROVIDER"] = PROVIDER
    outputs_app.config["ACCREDITATION_DESIGNATIONS"] = designations_file(
        tmp_path, {"aafp-prescribed": AAFP_STATEMENT}
    )
    outputs_app.extensions[views.SETTINGS] = output_settings(outputs_app.config)  # as at start
    monkeypatch.setattr(views, "current_learner_id", lambda: world.learners["alice"])
    page = outputs_app.test_client().get(f"/ledger/certificates/{world.sequences['alice-af'][0]}")
    assert page.status_code == 200
    assert AAFP_PRINTED in page.text and AMA_PRINTED in page.text


@pytest.mark.parametrize("credit_type", ["ancc-contact-hours", "acpe-contact-hours"])
def test_contact_hours_get_no_physician_designation_unless_configured(credit_type):
    amount = Decimal("1.00")
    assert Accreditation(PROVIDER).designation("case", credit_type, amount) is None
    own = Accreditation(
        PROVIDER, designations={credit_type: {"": "{provider}: {amount} {credit}."}}
    )
    assert own.designation("case", credit_type, amount).startswith(f"{PROVIDER}: 1.00 ")


@pytest.mark.parametrize(
    ("statements", "fault"),
    [
        ({"aafp-prescibed": "Reviewed."}, "unknown credit type 'aafp-prescibed'"),
        ({"aafp-prescribed": "Up to {hours} credits."}, "unknown placeholder 'hours'"),
        ({"aafp-prescribed": "Up to {amount credits."}, "aafp-prescribed statement"),
        ({"aafp-prescribed": ""}, "gives aafp-prescribed an empty statement"),
        ({"aafp-prescribed": {}}, "neither a text nor texts by language"),
        ({"aafp-prescribed": {"Spanish": "Hasta {amount}."}}, "'Spanish', which is not a language"),
        ({"aafp-prescribed": {"xx": "Hasta {amount}."}}, "'xx', which is not a language"),
        ({"aafp-prescribed": {"es": " "}}, "gives aafp-prescribed an empty es statement"),
        ({"aafp-prescribed": {"es": "Hasta {horas}."}}, "unknown placeholder 'horas'"),
        (["aafp-prescribed"], "is not a JSON object"),
    ],
)
def test_a_designations_file_bedside_cannot_use_is_refused_in_one_sentence(
    tmp_path, statements, fault
):
    path = designations_file(tmp_path, statements)
    with pytest.raises(ValueError, match="BEDSIDE_ACCREDITATION_DESIGNATIONS") as refused:
        output_settings({"ACCREDITATION_DESIGNATIONS": path})
    assert fault in str(refused.value) and "\n" not in str(refused.value)


def test_a_missing_designations_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="cannot be read"):
        output_settings({"ACCREDITATION_DESIGNATIONS": str(tmp_path / "missing.json")})


def test_an_app_with_a_designations_file_it_cannot_use_does_not_start(instance_path, tmp_path):
    path = designations_file(tmp_path, {"aafp-prescibed": "Reviewed."})
    with pytest.raises(ConfigError, match="unknown credit type 'aafp-prescibed'"):
        create_app(
            {"TESTING": True, "ACCREDITATION_DESIGNATIONS": path}, instance_path=instance_path
        )
