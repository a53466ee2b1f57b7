"""Adaptive learning: mastery, spaced reviews and transparent recommendations."""
