"""Outcomes: practice measures computed from FHIR R4 data (Moore level 5), and their statistics.

- `definitions.load_measures(content_dir)` reads `content/measures/*.yaml` (data, not code).
- `measures.evaluate_patients(definitions, patient_groups, as_of=...)` yields `MeasureCase`s.
- `stats` turns cases into rates with Wilson intervals, by clinician, period, before/after.
- `synthetic.generate_dataset(seed)` builds a deterministic practice dataset with known answers.
"""
