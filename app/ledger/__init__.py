"""The CME ledger: credit rules, an append-only hash-chained credit store, verification.

Modules: rules (pure credit rules), policy (rules from settings), chain (records and hashes),
schema (migrations), store (the one storage interface), credit (claiming), verify, commands.
"""
