"""Translatable labels for codes the app shows: specialties, credit types, choices, refusals."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext

from app.ledger.privacy import NO_TERMS, PATIENT_PATTERNS, IdentifyingTerms

SPECIALTIES = {
    "addiction-medicine": lazy_gettext("Addiction medicine"),
    "allergy-immunology": lazy_gettext("Allergy and immunology"),
    "anesthesiology": lazy_gettext("Anesthesiology"),
    "cardiology": lazy_gettext("Cardiology"),
    "critical-care": lazy_gettext("Critical care"),
    "emergency-medicine": lazy_gettext("Emergency medicine"),
    "endocrinology": lazy_gettext("Endocrinology"),
    "family-medicine": lazy_gettext("Family medicine"),
    "gastroenterology": lazy_gettext("Gastroenterology"),
    "geriatrics": lazy_gettext("Geriatrics"),
    "hematology": lazy_gettext("Hematology"),
    "hospital-medicine": lazy_gettext("Hospital medicine"),
    "infectious-diseases": lazy_gettext("Infectious diseases"),
    "internal-medicine": lazy_gettext("Internal medicine"),
    "nephrology": lazy_gettext("Nephrology"),
    "neurology": lazy_gettext("Neurology"),
    "obstetrics-gynecology": lazy_gettext("Obstetrics and gynecology"),
    "oncology": lazy_gettext("Oncology"),
    "orthopedics": lazy_gettext("Orthopedics"),
    "otolaryngology": lazy_gettext("Otolaryngology"),
    "pain-medicine": lazy_gettext("Pain medicine"),
    "pediatrics": lazy_gettext("Pediatrics"),
    "pharmacy": lazy_gettext("Pharmacy"),
    "physical-medicine-rehabilitation": lazy_gettext("Physical medicine and rehabilitation"),
    "preventive-medicine": lazy_gettext("Preventive medicine"),
    "psychiatry": lazy_gettext("Psychiatry"),
    "pulmonology": lazy_gettext("Pulmonology"),
    "radiology": lazy_gettext("Radiology"),
    "surgery": lazy_gettext("Surgery"),
    "urology": lazy_gettext("Urology"),
}
CREDIT_TYPES = {
    "ama-pra-category-1": lazy_gettext("AMA PRA Category 1 Credit™"),
    "aafp-prescribed": lazy_gettext("AAFP Prescribed Credit"),
    "ancc-contact-hours": lazy_gettext("ANCC contact hours"),
    "acpe-contact-hours": lazy_gettext("ACPE contact hours"),
    "aapa-category-1": lazy_gettext("AAPA Category 1 CME Credit"),
}
QUESTION_REASONS = {
    "diagnostic-dilemma": lazy_gettext("Diagnostic dilemma"),
    "new-information": lazy_gettext("New information (a new study, guideline or drug)"),
    "rare-condition": lazy_gettext("Rare condition"),
    "other": lazy_gettext("Other"),
}
ANSWERED = {
    "yes": lazy_gettext("Yes"),
    "partly": lazy_gettext("Partly"),
    "no": lazy_gettext("No"),
}
IMPACTS = {
    "confirmed-diagnosis": lazy_gettext("Confirmed my diagnosis"),
    "changed-drug": lazy_gettext("Changed a drug choice or dose"),
    "changed-test": lazy_gettext("Changed the tests I ordered"),
    "changed-referral": lazy_gettext("Changed a referral"),
    "changed-management": lazy_gettext("Changed other management"),
    "no-change": lazy_gettext("No change"),
}
BIAS = {
    "no": lazy_gettext("No, it was free of commercial bias"),
    "yes": lazy_gettext("Yes, I noticed commercial bias"),
}
RATINGS = {
    "1": lazy_gettext("1 (not useful)"),
    "2": lazy_gettext("2"),
    "3": lazy_gettext("3"),
    "4": lazy_gettext("4"),
    "5": lazy_gettext("5 (very useful)"),
}
PATIENT_DATA_KINDS = {
    "a FHIR patient or encounter reference": lazy_gettext("a patient or encounter reference"),
    "a social security number": lazy_gettext("a social security number"),
    "an e-mail address": lazy_gettext("an e-mail address"),
    "a phone number": lazy_gettext("a phone number"),
    "a record number (7 or more digits)": lazy_gettext("a record number (7 or more digits)"),
}


# Recommendation strengths exactly as the shipped modules' guidelines publish them (content YAML,
# English only). Pages show the translation and keep the published wording beside it; a strength
# not listed here is shown as published. tests/ui/test_spanish_pages.py checks the list is complete.
STRENGTHS = (
    lazy_gettext('1A (Level 1, "We recommend"; quality of evidence A, high)'),
    lazy_gettext("1B (KDIGO grading: level 1 recommendation, quality of evidence B)"),
    lazy_gettext(
        "AAP clinical report (Hersh AL, Jackson MA, Hicks LA; Committee on Infectious Diseases); "
        "its principles are not graded"
    ),
    lazy_gettext("COR 1, LOE A"),
    lazy_gettext("Consensus-based statement (CBS)"),
    lazy_gettext("Evidence quality: Grade B; Strength: Recommendation (Key Action Statement 4A)"),
    lazy_gettext(
        "High-Value Care Advice (ACP/CDC narrative review; the advice statements are not graded)"
    ),
    lazy_gettext("Recommendation category: A; evidence type: 4"),
    lazy_gettext(
        "Strong recommendation, low quality of evidence (septic shock); strong recommendation, "
        "very low quality of evidence (sepsis without shock)"
    ),
    lazy_gettext("Strong recommendation, moderate certainty in the evidence about effects (⊕⊕⊕◯)"),
    lazy_gettext("Strong recommendation, moderate quality of evidence"),
    lazy_gettext("ACIP recommendation; no strength grade stated"),
    lazy_gettext("B recommendation"),
    lazy_gettext("COR I, LOE B-R"),
    lazy_gettext("Children: strong, moderate; adults: weak, low (IDSA GRADE)"),
    lazy_gettext("Conditional recommendation, moderate certainty of evidence"),
    lazy_gettext("Evidence quality A; strong recommendation (AAP: A, Strong)"),
    lazy_gettext("Practice point (ungraded)"),
    lazy_gettext("Strong recommendation, high-quality evidence"),
    lazy_gettext("Strong, high (IDSA GRADE: strong recommendation, high-quality evidence)"),
    lazy_gettext("1B (APA: recommendation [1], moderate strength of research evidence [B])"),
    lazy_gettext("Grade A"),
    lazy_gettext(
        'No evidence grade published; labelled "MAJOR REVISION" in the 2020 Focused Update'
    ),
    lazy_gettext(
        "No grade is published with the treatment algorithm (GOLD assigns evidence levels to "
        "individual statements; not verified here for this one)"
    ),
    lazy_gettext(
        "No grade is published with this statement (GINA assigns evidence levels to statements in "
        "the full report; the level for this one was not verified here)"
    ),
    lazy_gettext(
        "Not verified: the published class of recommendation and level of evidence "
        "could not be checked"
    ),
    lazy_gettext(
        "ADA evidence grading (A, B, C, E); the grade of this recommendation was not verified "
        "for this draft"
    ),
    lazy_gettext(
        "Class of Recommendation 1 (strong); the level of evidence was not verified for this draft"
    ),
    lazy_gettext(
        "Quality of evidence: moderate; strength of recommendation: strong (for each of the two "
        "criteria)"
    ),
    lazy_gettext("Strong recommendation, moderate-certainty evidence"),
    lazy_gettext("Strong recommendation, moderate-quality evidence"),
    lazy_gettext(
        "Strong recommendation (SSC 2026); the certainty of evidence was not verified for this "
        "module"
    ),
)
# Disclosure wording the shipped modules use (content YAML, English only).
DISCLOSURE_TEXTS = (
    lazy_gettext("Bedside editorial team"),
    lazy_gettext("Author and planner (draft pending clinician review)"),
)


def strength(published: str) -> str:
    """A recommendation strength in the UI language (as published when no translation exists)."""
    return gettext(published) if published else ""


def disclosure_text(text: str) -> str:
    """A disclosure's name or role in the UI language (as written when no translation exists)."""
    return gettext(text) if text else ""


def template_helpers() -> dict:
    """The label functions content-driven templates use (registered on the app's blueprint)."""
    return {"strength": strength, "disclosure_text": disclosure_text}


def specialty(code: str) -> str:
    """A specialty's name in the UI language (unknown codes are made readable)."""
    label = SPECIALTIES.get(code)
    return str(label) if label else code.replace("-", " ")


def credit_type(code: str) -> str:
    """A credit type's name in the UI language."""
    label = CREDIT_TYPES.get(code)
    return str(label) if label else code


def refusal(reason: str) -> str:
    """Why the ledger granted no credit, in the UI language."""
    messages = {
        "below-pass-mark": gettext("Your score is below the pass mark, so no credit was earned."),
        "duplicate": gettext(
            "You already earned credit for this activity, so no further credit was recorded."
        ),
        "annual-cap-reached": gettext(
            "You have reached this year's credit limit, so no further credit was recorded."
        ),
        "no-credit": gettext("This activity carries no credit that this provider awards."),
        "cycle-incomplete": gettext("This cycle is not finished yet."),
        "cycle-expired": gettext(
            "This cycle expired before it was finished, so it cannot earn credit."
        ),
        "same-question": gettext(
            "You already earned credit for this clinical question in another cycle; "
            "each distinct question earns credit once."
        ),
        "module-not-approved": gettext(
            "No clinician reviewer has approved this module yet, so it earns no credit here. "
            "You can still learn from it."
        ),
        "scenario-not-reviewed": gettext(
            "No clinician reviewer has reviewed this scenario yet, so it earns no credit here; "
            "the module's case does. You can still learn from the scenario."
        ),
    }
    return messages.get(reason, gettext("No credit was recorded."))


def patient_data_kind(text: str, known: IdentifyingTerms = NO_TERMS) -> str | None:
    """Name what in a text looks like a patient identifier (None when nothing does)."""
    for description, pattern in PATIENT_PATTERNS:
        if pattern.search(text):
            return str(PATIENT_DATA_KINDS.get(description, description))
    if known.found_in(text):
        return gettext("this patient's name, record number or birth date")
    return None
