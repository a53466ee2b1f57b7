"""Fixtures for the tests with several Bedside hosts on one database."""

from tests.support.interim_postgres import postgres_url  # noqa: F401 - until main has it
