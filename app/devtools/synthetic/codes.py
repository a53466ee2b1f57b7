"""The codes the synthetic dataset uses, each copied from a Bedside value set (tests check this)."""

from __future__ import annotations

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"

Coding = tuple[str, str, str]
Diagnosis = tuple[Coding, ...]

URI = (
    (
        (SNOMED, "54398005", "Acute upper respiratory infection (disorder)"),
        (ICD10CM, "J06.9", "Acute upper respiratory infection, unspecified"),
    ),
    (
        (SNOMED, "82272006", "Common cold (disorder)"),
        (ICD10CM, "J00", "Acute nasopharyngitis [common cold]"),
    ),
)
BRONCHITIS = (
    (
        (SNOMED, "10509002", "Acute bronchitis (disorder)"),
        (ICD10CM, "J20.9", "Acute bronchitis, unspecified"),
    ),
    (
        (SNOMED, "4120002", "Bronchiolitis (disorder)"),
        (ICD10CM, "J21.9", "Acute bronchiolitis, unspecified"),
    ),
    (
        (SNOMED, "57089007", "Respiratory syncytial virus bronchiolitis (disorder)"),
        (ICD10CM, "J21.0", "Acute bronchiolitis due to respiratory syncytial virus"),
    ),
)
COMPETING = (
    (
        (SNOMED, "43878008", "Streptococcal sore throat (disorder)"),
        (ICD10CM, "J02.0", "Streptococcal pharyngitis"),
    ),
    (
        (SNOMED, "15805002", "Acute sinusitis (disorder)"),
        (ICD10CM, "J01.90", "Acute sinusitis, unspecified"),
    ),
    (
        (SNOMED, "385093006", "Community acquired pneumonia (disorder)"),
        (ICD10CM, "J18.9", "Pneumonia, unspecified organism"),
    ),
    (
        (SNOMED, "194281003", "Acute suppurative otitis media (disorder)"),
        (
            ICD10CM,
            "H66.009",
            "Acute suppurative otitis media without spontaneous rupture of ear "
            "drum, unspecified ear",
        ),
    ),
    (
        (SNOMED, "363746003", "Acute pharyngitis (disorder)"),
        (ICD10CM, "J02.9", "Acute pharyngitis, unspecified"),
    ),
)
COMORBID = (
    (
        (SNOMED, "87433001", "Pulmonary emphysema (disorder)"),
        (ICD10CM, "J43.9", "Emphysema, unspecified"),
    ),
    (
        (SNOMED, "86406008", "Human immunodeficiency virus infection (disorder)"),
        (ICD10CM, "B20", "Human immunodeficiency virus [HIV] disease"),
    ),
    (
        (SNOMED, "190905008", "Cystic fibrosis (disorder)"),
        (ICD10CM, "E84.9", "Cystic fibrosis, unspecified"),
    ),
    (
        (SNOMED, "51068008", "Adult bronchiectasis (disorder)"),
        (ICD10CM, "J47.9", "Bronchiectasis, uncomplicated"),
    ),
    (
        (SNOMED, "234532001", "Immunodeficiency disorder (disorder)"),
        (ICD10CM, "D84.9", "Immunodeficiency, unspecified"),
    ),
)
HOSPICE_CARE: Coding = (SNOMED, "385763009", "Hospice care (regime/therapy)")
HOSPICE_REFERRAL: Coding = (SNOMED, "306205009", "Referral to hospice (procedure)")
TERMINAL_CARE: Coding = (SNOMED, "182964004", "Terminal care (regime/therapy)")

ORAL_ANTIBIOTICS: tuple[Coding, ...] = (
    (RXNORM, "308191", "amoxicillin 500 MG Oral Capsule"),
    (RXNORM, "562508", "amoxicillin 875 MG / clavulanate 125 MG Oral Tablet"),
    (RXNORM, "308460", "azithromycin 250 MG Oral Tablet"),
    (RXNORM, "200346", "cefdinir 300 MG Oral Capsule"),
)
PEDIATRIC_ANTIBIOTIC: Coding = (RXNORM, "308189", "amoxicillin 80 MG/ML Oral Suspension")
IV_ANTIBIOTICS: tuple[Coding, ...] = (
    (RXNORM, "309090", "ceftriaxone 100 MG/ML Injectable Solution"),
    (RXNORM, "312447", "piperacillin 200 MG/ML / tazobactam 25 MG/ML Injectable Solution"),
    (RXNORM, "1807513", "vancomycin 1000 MG Injection"),
    (RXNORM, "2058953", "cefepime 100 MG/ML Injectable Solution"),
)

SEPSIS = (
    ((SNOMED, "91302008", "Sepsis (disorder)"), (ICD10CM, "A41.9", "Sepsis, unspecified organism")),
    (
        (SNOMED, "76571007", "Septic shock (disorder)"),
        (ICD10CM, "R65.21", "Severe sepsis with septic shock"),
    ),
)
LACTATE_PLASMA: Coding = (LOINC, "2524-7", "Lactate [Moles/volume] in Serum or Plasma")
LACTATE_BLOOD: Coding = (LOINC, "32693-4", "Lactate [Moles/volume] in Blood")
BLOOD_CULTURE: Coding = (LOINC, "600-7", "Bacteria identified in Blood by Culture")

HFREF = (
    (
        (SNOMED, "703272007", "Heart failure with reduced ejection fraction (disorder)"),
        (ICD10CM, "I50.22", "Chronic systolic (congestive) heart failure"),
    ),
    (
        (SNOMED, "417996009", "Systolic heart failure (disorder)"),
        (ICD10CM, "I50.20", "Unspecified systolic (congestive) heart failure"),
    ),
)
LVEF: tuple[Coding, ...] = (
    (LOINC, "10230-1", "Left ventricular Ejection fraction"),
    (LOINC, "18043-0", "Left ventricular Ejection fraction by US"),
)
BETA_BLOCKERS: tuple[Coding, ...] = (
    (RXNORM, "686924", "carvedilol 3.125 MG Oral Tablet"),
    (RXNORM, "200031", "carvedilol 6.25 MG Oral Tablet"),
    (RXNORM, "866427", "24 HR metoprolol succinate 25 MG Extended Release Oral Tablet"),
    (RXNORM, "854905", "bisoprolol fumarate 5 MG Oral Tablet"),
)
# Real RxNorm code (eCQM "Beta Blocker Therapy"), deliberately NOT an evidence-based HFrEF agent.
METOPROLOL_TARTRATE: Coding = (RXNORM, "866924", "metoprolol tartrate 25 MG Oral Tablet")
BETA_BLOCKER_ALLERGIES: tuple[Coding, ...] = (
    (SNOMED, "293974008", "Allergy to carvedilol (finding)"),
    (RXNORM, "19484", "bisoprolol"),
)
HYPERTENSION = (
    (
        (SNOMED, "38341003", "Hypertensive disorder, systemic arterial (disorder)"),
        (ICD10CM, "I10", "Essential (primary) hypertension"),
    ),
)
