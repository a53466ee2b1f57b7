"""Ledger outputs: transcripts, printable certificates, and xAPI, PARS and Open Badges exports.

Modules: records (shared reading of records), settings (accreditation, base URL), transcript,
certificates, xapi, pars, badges (issue, sign and verify), exporting, views. Their CLI commands
live in app/ledger/ledger_commands.py. Every output reads the ledger through `LedgerStore`;
learners appear only as opaque ids (or the name a learner entered for board reporting), and no
output has a place for patient data.
"""
