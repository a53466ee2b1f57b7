"""Journal clubs: a facilitator's invited group reflecting on a module or a guideline, for credit.

Between the pages and collaboration in the package layers: clubs use collaboration's roles and
the patient-data guard, claim credit through the ledger, and the pages show them.
"""
