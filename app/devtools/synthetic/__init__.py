"""Deterministic synthetic practice data with known answers: demo mode and tests only."""
