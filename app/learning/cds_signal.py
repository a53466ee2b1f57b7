"""The learning signal the CDS service uses: topics (module ids) a CDS user has mastered.

A CDS call names its user by `userId` at `fhirServer`; a learner is keyed in the ledger by
HMAC(issuer, fhirUser). The same two forms of fhirUser the dashboards try (absolute URL and as
given) find the learner without any new identifier being stored.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import bindparam, text

from app.database import Database
from app.identity import fhir_user_forms, learner_id
from app.learning.mastery import TopicMastery

MASTERY_OF_LEARNERS = text(
    "SELECT topic, score, answers FROM learning_mastery WHERE learner_id IN :learners"
).bindparams(bindparam("learners", expanding=True))


def mastered_topics(mastery: Mapping[str, TopicMastery]) -> frozenset[str]:
    """Module ids whose topic is mastered (TopicMastery.mastered)."""
    return frozenset(topic for topic, value in mastery.items() if value.mastered)


class MasterySignal:
    """Reads the topics a CDS user has mastered (one indexed query per call, read-only).

    The learning store (app/learning/profile_store.py) owns and migrates `learning_mastery`.
    """

    def __init__(self, database: Database, identity_key: bytes):
        self.database = database
        self._identity_key = identity_key

    def __call__(self, fhir_server: str | None, user_id: str) -> frozenset[str]:
        """The mastered topics of the learner who is user_id at fhir_server (empty if unknown)."""
        if not fhir_server or not fhir_server.strip() or not user_id.strip():
            return frozenset()
        forms = fhir_user_forms(fhir_server, user_id)
        learners = sorted({learner_id(self._identity_key, fhir_server, form) for form in forms})
        with self.database.lookup() as connection:
            rows = connection.execute(MASTERY_OF_LEARNERS, {"learners": learners}).all()
        return mastered_topics({topic: TopicMastery(score, n) for topic, score, n in rows})
