"""Ledger outputs: transcripts, printable certificates, and xAPI, PARS and Open Badges exports.

Modules: records (shared reading of records), settings (accreditation, base URL), transcript,
certificates, xapi, pars, badges + badge_keys + badge_verify, exporting, views, commands.
Every output reads the ledger through `LedgerStore`; learners appear only as opaque ids (or the
name a learner entered for board reporting), and no output has a place for patient data.
"""
