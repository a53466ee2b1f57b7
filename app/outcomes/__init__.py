"""Outcomes: practice measures computed from FHIR R4 data (Moore level 5).

- `app.library.measure_definitions.load_measures(content_dir)` reads `content/measures/*.yaml`.
- `measures.evaluate_patients(definitions, patient_groups, as_of=...)` yields `MeasureCase`s.
- `app.stats` turns cases into rates with Wilson intervals, by clinician, period, before/after.
- `practice_data` holds a deployment's practice dataset and where it comes from; the synthetic
  one (demo and tests) is `app.devtools.synthetic`, which nothing here imports.
"""
