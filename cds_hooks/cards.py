"""Turn a module match into a CDS Hooks card: summary, why-line, source, links, suggestions."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field

from app.library import editorial
from cds_hooks.card_resources import Filler, compile_resource, with_concept_text
from cds_hooks.matching import Evidence, Match
from cds_hooks.models import Card

# A module's own override reasons; its general ones come from CDS Hooks 3.0's code system.
OVERRIDE_REASON_SYSTEM = "https://fhir.bedside.example/CodeSystem/override-reason"
NON_ADHERENCE_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
SUMMARY_LIMIT = 139
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
UI_TEXT = {
    "why": {
        "en": "Why you are seeing this",
        "es": "Por qué ve esta tarjeta",
        "fr": "Pourquoi cette carte apparaît",
    },
    "draft": {
        "en": "Draft content: not yet reviewed by a clinician.",
        "es": "Contenido en borrador: aún no revisado por un clínico.",
        "fr": "Contenu provisoire : pas encore relu par un clinicien.",
    },
    "case": {
        "en": "Open the short case in Bedside (CME)",
        "es": "Abrir el caso breve en Bedside (CME)",
        "fr": "Ouvrir le cas court dans Bedside (FMC)",
    },
    "guideline": {"en": "Read the guideline", "es": "Leer la guía", "fr": "Lire la recommandation"},
    "and": {"en": "and", "es": "y", "fr": "et"},
    "sources": {
        "en": "Source attributes",
        "es": "Atributos de la fuente",
        "fr": "Attributs de la source",
    },
}


SAMPLE_EVIDENCE = Evidence(
    "observation", "Lactate 3.1 mmol/L", "3.1 mmol/L", ("http://loinc.org", "2524-7", "Lactate")
)


@dataclass(frozen=True)
class CardSettings:
    """What every card needs from the deployment: where the SMART app's launch URL is."""

    launch_url: str

    @property
    def base_url(self) -> str:
        """The service's public base URL: the launch page is served at its root."""
        return self.launch_url.rsplit("/", 1)[0]


@dataclass(frozen=True)
class SuggestionTemplate:
    """A suggestion's call-independent parts; its resources are filled per call."""

    label: str
    recommended: dict
    actions: tuple[tuple[str, str, Filler], ...]  # (type, description, resource filler)


@dataclass(frozen=True)
class CardTemplate:
    """The parts of a module's card, in one language, that do not depend on the call."""

    module_id: str
    version: str
    summary: str
    teaching: str
    footer: str
    indicator: str
    source: dict
    link_labels: tuple[str, str, str]
    source_attributes_path: str  # the HTI-1 page of this module version, in the card's language
    app_context: str
    guideline_url: str
    override_reasons: list
    suggestions: tuple[SuggestionTemplate, ...]
    selection_behavior: str | None
    words: dict = field(default_factory=dict)


def card_template(module: dict, language: str) -> CardTemplate:
    """Prepare a module's card in one language (done once per module and language)."""
    card = module["card"]
    return CardTemplate(
        module_id=module["id"],
        version=module["version"],
        summary=card["summary"][language],
        teaching=card["detail"][language].strip(),
        footer=draft_footer(module, language),
        indicator=card["indicator"],
        source=source_of(module),
        link_labels=(
            UI_TEXT["case"][language],
            UI_TEXT["guideline"][language],
            UI_TEXT["sources"][language],
        ),
        source_attributes_path=(
            f"/modules/{module['id']}/{module['version']}/source-attributes?lang={language}"
        ),
        app_context=json.dumps({"module": module["id"], "version": module["version"]}),
        guideline_url=module["guideline"]["url"],
        override_reasons=[
            {
                "code": reason["code"],
                "system": reason.get("system", OVERRIDE_REASON_SYSTEM),
                "display": reason["display"][language],
            }
            for reason in card["override_reasons"]
        ],
        suggestions=tuple(suggestion_template(s, language) for s in card.get("suggestions", ())),
        selection_behavior=card.get("selection_behavior"),
        words={"why": UI_TEXT["why"][language], "and": UI_TEXT["and"][language]},
    )


def render_card(
    template: CardTemplate,
    match: Match,
    *,
    hook_context: dict[str, str],
    settings: CardSettings,
) -> dict:
    """Build one card (as wire JSON) for a matched module from its prepared template."""
    card_uuid = new_card_uuid()
    body = {
        "uuid": uuid_text(card_uuid),
        "summary": render_summary(template.summary, match.named_values()),
        "detail": compose_detail(template, match),
        "indicator": template.indicator,
        "source": template.source,
        "links": links_of(template, settings),
        "overrideReasons": template.override_reasons,
    }
    if template.suggestions:
        body["suggestions"] = suggestions_of(template.suggestions, card_uuid, hook_context)
        body["selectionBehavior"] = template.selection_behavior
    return body


def build_card(
    match: Match,
    module: dict,
    *,
    hook_context: dict[str, str],
    language: str,
    settings: CardSettings,
) -> dict:
    """Build one card (as wire JSON) for a matched module, preparing its template on the way."""
    return render_card(
        card_template(module, language),
        match,
        hook_context=hook_context,
        settings=settings,
    )


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
                hook_context=context,
                language=language,
                settings=settings,
            )
            try:
                Card.model_validate(card)
            except ValueError as invalid:
                raise ValueError(f"module {module['id']} ({language}): {invalid}") from None


def new_card_uuid() -> bytes:
    """A random (version 4) card uuid: feedback cannot be aimed at a card one did not receive."""
    return uuid.uuid4().bytes


def name_uuid(namespace: bytes, name: str) -> bytes:
    """The 16 bytes of uuid.uuid5(namespace, name), without building UUID objects (hot path)."""
    raw = bytearray(hashlib.sha1(namespace + name.encode()).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return bytes(raw)


def uuid_text(raw: bytes) -> str:
    """The canonical 8-4-4-4-12 text of 16 uuid bytes."""
    digits = raw.hex()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def render_summary(template: str, values: dict[str, str]) -> str:
    """Fill {name} placeholders with evidence values, keeping the summary under 140 characters."""
    text = PLACEHOLDER.sub(lambda found: values.get(found.group(1), found.group(0)), template)
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1].rstrip() + "…"


def compose_detail(template: CardTemplate, match: Match) -> str:
    """Join the module's teaching text, the why-line and the draft label into Markdown."""
    reasons = f" {template.words['and']} ".join(
        markdown_escape(evidence.describe()) for evidence in match.evidence
    )
    why = f"**{template.words['why']}:** {reasons}."
    return "\n\n".join(part for part in (template.teaching, why, template.footer) if part)


def draft_footer(module: dict, language: str) -> str:
    """The draft label in italics, unless a named clinician approved the module."""
    if editorial.is_approved(module):
        return ""
    return f"_{UI_TEXT['draft'][language]}_"


def markdown_escape(text: str) -> str:
    """Escape patient-derived text so it stays one line of literal text in the card's Markdown."""
    text = " ".join(text.split())  # a line break could start a heading, list or code block
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


def links_of(template: CardTemplate, settings: CardSettings) -> list[dict]:
    """Link to the SMART app (module in appContext, no PHI), the guideline and source attributes."""
    return [
        {
            "label": template.link_labels[0],
            "url": settings.launch_url,
            "type": "smart",
            "appContext": template.app_context,
        },
        {"label": template.link_labels[1], "url": template.guideline_url, "type": "absolute"},
        {
            "label": template.link_labels[2],
            "url": settings.base_url + template.source_attributes_path,
            "type": "absolute",
        },
    ]


def suggestion_template(suggestion: dict, language: str) -> SuggestionTemplate:
    """Prepare one suggestion in one language: concepts given text, resource templates compiled."""
    return SuggestionTemplate(
        label=suggestion["label"][language],
        recommended=recommended(suggestion),
        actions=tuple(
            (
                action["type"],
                action["description"][language],
                compile_resource(with_concept_text(action["resource"])),
            )
            for action in suggestion["actions"]
        ),
    )


def suggestions_of(
    suggestions: tuple[SuggestionTemplate, ...], card_uuid: bytes, hook_context: dict[str, str]
) -> list[dict]:
    """Render the suggestions with stable uuids and this call's context filled in."""
    return [
        {
            "label": suggestion.label,
            "uuid": uuid_text(name_uuid(card_uuid, f"suggestion-{number}")),
            **suggestion.recommended,
            "actions": [
                {"type": kind, "description": description, "resource": filler(hook_context)}
                for kind, description, filler in suggestion.actions
            ],
        }
        for number, suggestion in enumerate(suggestions)
    ]


def recommended(suggestion: dict) -> dict:
    """Return {"isRecommended": …} when the module says, else nothing (never a null)."""
    if "is_recommended" in suggestion:
        return {"isRecommended": bool(suggestion["is_recommended"])}
    return {}
