"""Turn a module match into a CDS Hooks card: summary, why-line, source, links, suggestions."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

from cds_hooks.matching import Evidence, Match
from cds_hooks.models import Card

CARD_NAMESPACE = uuid.UUID("6f1c7c1e-4f0b-5b6e-9a57-2b8f7b4f1d10")
OVERRIDE_REASON_SYSTEM = "https://fhir.bedside.example/CodeSystem/override-reason"
SUMMARY_LIMIT = 139
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
CONTEXT_TOKEN = re.compile(r"\{\{\s*context\.(\w+)\s*\}\}")
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
UI_TEXT = {
    "why": {"en": "Why you are seeing this", "es": "Por qué ve esta tarjeta"},
    "draft": {
        "en": "Draft content: not yet reviewed by a clinician.",
        "es": "Contenido en borrador: aún no revisado por un clínico.",
    },
    "case": {
        "en": "Open the short case in Bedside (CME)",
        "es": "Abrir el caso breve en Bedside (CME)",
    },
    "guideline": {"en": "Read the guideline", "es": "Leer la guía"},
    "and": {"en": "and", "es": "y"},
}


SAMPLE_EVIDENCE = Evidence(
    "observation", "Lactate 3.1 mmol/L", "3.1 mmol/L", ("http://loinc.org", "2524-7", "Lactate")
)


@dataclass(frozen=True)
class CardSettings:
    """What every card needs from the deployment: where the SMART app's launch URL is."""

    launch_url: str


def build_card(
    match: Match,
    module: dict,
    *,
    hook_instance: str,
    hook_context: dict[str, str],
    language: str,
    settings: CardSettings,
) -> dict:
    """Build one validated card (as wire JSON) for a matched module."""
    card_uuid = card_uuid_for(module, hook_instance)
    card = module["card"]
    body = {
        "uuid": card_uuid,
        "summary": render_summary(card["summary"][language], match.named_values()),
        "detail": compose_detail(module, match, language),
        "indicator": card["indicator"],
        "source": source_of(module),
        "links": links_of(module, language, settings),
        "overrideReasons": [
            {
                "code": reason["code"],
                "system": OVERRIDE_REASON_SYSTEM,
                "display": reason["display"][language],
            }
            for reason in card["override_reasons"]
        ],
    }
    if card.get("suggestions"):
        body["suggestions"] = suggestions_of(card["suggestions"], card_uuid, language, hook_context)
        body["selectionBehavior"] = card["selection_behavior"]
    return body


def check_cards(modules: dict[str, dict]) -> None:
    """Build every module's card in every language from sample data and validate it (start-up).

    The hot path builds plain dicts; this proves, once, that each module yields a conformant card
    (the test suite also validates every response). Raises ValueError naming the module.
    """
    settings = CardSettings(launch_url="https://bedside.example/launch.html")
    context = {"patientId": "example", "encounterId": "example", "userId": "Practitioner/example"}
    for module in modules.values():
        sample = Match(module["id"], 0, (SAMPLE_EVIDENCE,))
        for language in module["languages"]:
            card = build_card(
                sample,
                module,
                hook_instance="00000000-0000-4000-8000-000000000000",
                hook_context=context,
                language=language,
                settings=settings,
            )
            try:
                Card.model_validate(card)
            except ValueError as invalid:
                raise ValueError(f"module {module['id']} ({language}): {invalid}") from None


def card_uuid_for(module: dict, hook_instance: str) -> str:
    """Derive the card uuid from module, version and hook call (stable for retries of that call)."""
    return str(uuid.uuid5(CARD_NAMESPACE, f"{module['id']}|{module['version']}|{hook_instance}"))


def render_summary(template: str, values: dict[str, str]) -> str:
    """Fill {name} placeholders with evidence values, keeping the summary under 140 characters."""
    text = PLACEHOLDER.sub(lambda found: values.get(found.group(1), found.group(0)), template)
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1].rstrip() + "…"


def compose_detail(module: dict, match: Match, language: str) -> str:
    """Join the module's teaching text, the why-line and the draft label into Markdown."""
    reasons = f" {UI_TEXT['and'][language]} ".join(
        markdown_escape(evidence.describe()) for evidence in match.evidence
    )
    parts = [
        module["card"]["detail"][language].strip(),
        f"**{UI_TEXT['why'][language]}:** {reasons}.",
    ]
    if module["review"]["status"] != "reviewed":
        parts.append(f"_{UI_TEXT['draft'][language]}_")
    return "\n\n".join(parts)


def markdown_escape(text: str) -> str:
    """Escape patient-derived text so it cannot inject Markdown or HTML into the card."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def source_of(module: dict) -> dict:
    """Name the guideline behind the card, with its link and topic."""
    guideline = module["guideline"]
    source = {
        "label": f"{guideline['organization']} ({guideline['year']})",
        "url": guideline["url"],
    }
    if module.get("topic"):
        source["topic"] = module["topic"]
    return source


def links_of(module: dict, language: str, settings: CardSettings) -> list[dict]:
    """Link into the Bedside SMART app (module in appContext, no PHI) and to the guideline."""
    app_context = json.dumps({"module": module["id"], "version": module["version"]})
    return [
        {
            "label": UI_TEXT["case"][language],
            "url": settings.launch_url,
            "type": "smart",
            "appContext": app_context,
        },
        {
            "label": UI_TEXT["guideline"][language],
            "url": module["guideline"]["url"],
            "type": "absolute",
        },
    ]


def suggestions_of(
    suggestions: list[dict], card_uuid: str, language: str, hook_context: dict[str, str]
) -> list[dict]:
    """Render the module's suggestions with stable uuids and this call's context filled in."""
    return [
        {
            "label": suggestion["label"][language],
            "uuid": str(uuid.uuid5(uuid.UUID(card_uuid), f"suggestion-{number}")),
            **recommended(suggestion),
            "actions": [
                {
                    "type": action["type"],
                    "description": action["description"][language],
                    "resource": fill_resource(action["resource"], hook_context),
                }
                for action in suggestion["actions"]
            ],
        }
        for number, suggestion in enumerate(suggestions)
    ]


def recommended(suggestion: dict) -> dict:
    """Return {"isRecommended": …} when the module says, else nothing (never a null)."""
    if "is_recommended" in suggestion:
        return {"isRecommended": bool(suggestion["is_recommended"])}
    return {}


def fill_resource(template: object, context: dict[str, str]) -> object:
    """Fill {{context.x}} tokens in a resource template; drop elements whose value is missing."""
    if isinstance(template, dict):
        filled = {key: fill_resource(value, context) for key, value in template.items()}
        kept = {key: value for key, value in filled.items() if value is not None}
        return kept or None
    if isinstance(template, list):
        items = [fill_resource(item, context) for item in template]
        return [item for item in items if item is not None] or None
    if isinstance(template, str) and CONTEXT_TOKEN.search(template):
        names = CONTEXT_TOKEN.findall(template)
        if not all(isinstance(context.get(name), str) and context[name] for name in names):
            return None
        return CONTEXT_TOKEN.sub(lambda found: context[found.group(1)], template)
    return template
