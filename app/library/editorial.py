"""A module version's editorial record: its workflow status, authors, reviewers and AI provenance.

The record is the module's `editorial` block (content/FORMAT.md, "Editorial process"). Only an
`approved` version counts as reviewed: cards and pages label every other one as draft, and a
production deployment awards no credit for it. `content check` (editorial_checks) makes sure an
approval is backed by a named, credentialed reviewer, so readers here may trust the status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

STATUSES = ("draft", "in-review", "approved", "retired")
APPROVED = "approved"


@dataclass(frozen=True)
class Review:
    """One reviewer's sign-off: who (with credentials) and when."""

    reviewer: str
    credentials: str
    date: str

    @property
    def signed(self) -> str:
        """`Name, credentials` (the name alone when no credentials are given)."""
        return f"{self.reviewer}, {self.credentials}" if self.credentials else self.reviewer


def status(module: Mapping[str, Any]) -> str:
    """The version's workflow status; `draft` when the module has no editorial record."""
    editorial = module.get("editorial")
    value = editorial.get("status") if isinstance(editorial, Mapping) else None
    return value if value in STATUSES else "draft"


def is_approved(module: Mapping[str, Any]) -> bool:
    """True when a named reviewer approved this version (and it is not retired)."""
    return status(module) == APPROVED


def reviewers(module: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The reviewers listed in the editorial record (none when it has none)."""
    return people(module, "reviewers")


def authors(module: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The authors listed in the editorial record (none when it has none)."""
    return people(module, "authors")


def people(module: Mapping[str, Any], role: str) -> list[Mapping[str, Any]]:
    """The persons listed under one role of the editorial record."""
    editorial = module.get("editorial")
    listed = editorial.get(role) if isinstance(editorial, Mapping) else None
    return [person for person in listed or [] if isinstance(person, Mapping)]


def signed_reviews(module: Mapping[str, Any]) -> list[Review]:
    """Reviews that count: a reviewer with a name, credentials and a date."""
    return [
        Review(str(person["name"]).strip(), str(person["credentials"]).strip(), str(person["date"]))
        for person in reviewers(module)
        if all(filled(person.get(key)) for key in ("name", "credentials", "date"))
    ]


def latest_review(module: Mapping[str, Any]) -> Review | None:
    """The most recent signed review of an approved version (None for any other status)."""
    if not is_approved(module):
        return None
    reviews = signed_reviews(module)
    return max(reviews, key=lambda review: review.date) if reviews else None


def filled(value: object) -> bool:
    """A non-blank string."""
    return isinstance(value, str) and bool(value.strip())
