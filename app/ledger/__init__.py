"""The CME ledger: credit rules, an append-only hash-chained credit store, verification.

Modules: rules (pure credit rules), chain (records and hashes), models (plain data and the named
errors), schema (migrations), store (the storage interface, its SQLite implementation and the
credit write transactions), attempts (learners, attempts, answers), groupcommit, privacy (the
patient-data guard), credit (claiming), verify, wiring (the Flask app's ledger and its credit
policy from settings), ledger_commands (`bedside ledger …`), outputs (transcripts and exports).
"""
