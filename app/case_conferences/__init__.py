"""Case conferences: a clinician's own launched encounter, de-identified, as a teaching case.

Between the pages and collaboration in the package layers: a conference's discussion reuses
collaboration's threads, and the pages show it.
"""
