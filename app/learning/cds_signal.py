"""The learning signal the CDS service uses: topics (module ids) a CDS user has mastered.

A CDS call names its user by `userId` at `fhirServer`; a learner is keyed in the ledger by
HMAC(issuer, fhirUser). The same two forms of fhirUser the dashboards try (absolute URL and as
given) find the learner without any new identifier being stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from app.db import SqliteStore
from app.identity import fhir_user_forms, learner_id
from app.learning.mastery import TopicMastery
from app.learning.profile_store import migrations


def mastered_topics(mastery: Mapping[str, TopicMastery]) -> frozenset[str]:
    """Module ids whose topic is mastered (TopicMastery.mastered)."""
    return frozenset(topic for topic, value in mastery.items() if value.mastered)


class MasterySignal(SqliteStore):
    """Reads the topics a CDS user has mastered (one indexed query per call, read-only)."""

    def __init__(self, path: Path, identity_key: bytes):
        super().__init__(path, migrations)
        self._identity_key = identity_key

    def __call__(self, fhir_server: str | None, user_id: str) -> frozenset[str]:
        """The mastered topics of the learner who is user_id at fhir_server (empty if unknown)."""
        if not fhir_server or not fhir_server.strip() or not user_id.strip():
            return frozenset()
        forms = fhir_user_forms(fhir_server, user_id)
        learners = sorted({learner_id(self._identity_key, fhir_server, form) for form in forms})
        rows = self._connection().execute(
            "SELECT topic, score, answers FROM learning_mastery"
            f" WHERE learner_id IN ({', '.join('?' * len(learners))})",
            learners,
        )
        return mastered_topics({topic: TopicMastery(score, n) for topic, score, n in rows})
