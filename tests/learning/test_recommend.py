"""Tests for the ranked recommendations."""

from datetime import UTC, datetime, timedelta

import pytest

from app.learning.mastery import TopicMastery
from app.learning.practice import PracticeGap
from app.learning.recommend import (
    PRACTICE_GAP_WEIGHT,
    REVIEW_DUE_WEIGHT,
    SELF_GAP_WEIGHT,
    SPECIALTY_WEIGHT,
    Profile,
    recommend,
    target_level,
)
from app.learning.reviews import DueReview, ReviewKey
from app.stats import Rate

NOW = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
URI = "uri-antibiotics-adults"
FM = ["family-medicine", "internal-medicine"]
LIBRARY = {
    URI: {"id": URI, "specialties": FM, "audience": {"level": "foundational"}},
    "hfref-gdmt": {"id": "hfref-gdmt", "specialties": FM, "audience": {"level": "intermediate"}},
    "aom-children": {"id": "aom-children", "specialties": ["pediatrics"], "audience": {}},
    "af-anticoagulation": {
        "id": "af-anticoagulation",
        "specialties": ["cardiology"],
        "audience": {"level": "intermediate"},
    },
}
URI_GAP = PracticeGap(
    "uri-appropriate-treatment",
    (URI,),
    "antibiotic_gap",
    {"events": 3, "eligible": 11, "label": "URI", "period": "this quarter", "peer": 1},
    {"measure_id": "uri-appropriate-treatment", **Rate(8, 11).as_dict()},
)
PROFILE = Profile("L1", specialty="family-medicine", gaps=("af-anticoagulation",))


def due(module_id, item="q1", when=NOW - timedelta(hours=1)):
    return DueReview(ReviewKey(module_id, item), when)


def test_uri_gap_and_due_review_rank_first_with_both_reasons():
    result = recommend(PROFILE, {}, [due(URI), due("hfref-gdmt")], [URI_GAP], LIBRARY, NOW)
    first = result[0]
    assert first.module_id == URI
    assert first.reasons[0] == (
        "3 of your 11 URI encounters this quarter had an antibiotic ordered; peer median 1 of 10"
    )
    assert "1 question(s) from this module are due for review" in first.reasons
    assert first.basis["practice"][0]["eligible"] == 11
    assert first.score >= PRACTICE_GAP_WEIGHT + REVIEW_DUE_WEIGHT


def test_weights_are_ordered():
    assert PRACTICE_GAP_WEIGHT > REVIEW_DUE_WEIGHT > SELF_GAP_WEIGHT > SPECIALTY_WEIGHT


def test_each_need_alone_ranks_in_weight_order():
    profile = Profile(specialty="cardiology", gaps=("hfref-gdmt",))
    result = recommend(profile, {}, [due("aom-children")], [URI_GAP], LIBRARY, NOW)
    assert [r.module_id for r in result] == [
        URI,
        "aom-children",
        "hfref-gdmt",
        "af-anticoagulation",
    ]


def test_mastered_topic_ranks_lower():
    mastery = {"hfref-gdmt": TopicMastery(0.9, 5)}
    plain = recommend(Profile(specialty="family-medicine"), {}, [], [], LIBRARY, NOW)
    mastered = recommend(Profile(specialty="family-medicine"), mastery, [], [], LIBRARY, NOW)
    assert [r.module_id for r in plain].index("hfref-gdmt") <= 1
    assert [r.module_id for r in mastered][-1] == "hfref-gdmt"
    hf = next(r for r in mastered if r.module_id == "hfref-gdmt")
    assert any("mastered" in reason for reason in hf.reasons)


def test_mastered_topic_with_a_due_review_is_not_penalized():
    mastery = {URI: TopicMastery(0.9, 5)}
    [rec] = [r for r in recommend(Profile(), mastery, [due(URI)], [], LIBRARY, NOW)]
    assert rec.score == REVIEW_DUE_WEIGHT


def test_every_recommendation_has_a_reason_and_unneeded_modules_are_left_out():
    result = recommend(PROFILE, {}, [due(URI)], [URI_GAP], LIBRARY, NOW)
    assert all(r.reasons for r in result)
    assert "aom-children" not in {r.module_id for r in result}


def test_future_reviews_and_unknown_modules_do_not_count():
    later = due(URI, when=NOW + timedelta(days=1))
    assert recommend(Profile(), {}, [later, due("gone")], [], LIBRARY, NOW) == []


def test_difficulty_matches_mastery():
    low = recommend(Profile(specialty="family-medicine"), {}, [], [], LIBRARY, NOW)
    assert low[0].module_id == URI  # foundational first for a new learner
    assert "good place to start" in low[0].reasons[-1]
    middling = {"x": TopicMastery(0.6, 4)}
    mid = recommend(Profile(specialty="family-medicine"), middling, [], [], LIBRARY, NOW)
    assert mid[0].module_id == "hfref-gdmt"
    assert mid[0].reasons[-1] == "Its level (intermediate) matches your current mastery (60%)"


@pytest.mark.parametrize(
    ("score", "level"),
    [(None, "foundational"), (0.0, "foundational"), (0.4, "intermediate"), (0.75, "advanced")],
)
def test_target_level_boundaries(score, level):
    assert target_level(score) == level


def test_deterministic_and_tie_broken_by_id():
    args = (Profile(specialty="family-medicine"), {"x": TopicMastery(0.9, 4)}, [], [], LIBRARY, NOW)
    first = recommend(*args)
    assert first == recommend(*args)
    assert [r.module_id for r in first] == ["hfref-gdmt", URI]  # equal scores: by id
    assert first[0].score == first[1].score


def test_translate_hook_applies_to_every_reason():
    result = recommend(PROFILE, {}, [due(URI)], [URI_GAP], LIBRARY, NOW, translate=lambda t: t)
    spanish = recommend(PROFILE, {}, [due(URI)], [URI_GAP], LIBRARY, NOW, translate=_es)
    assert len(result[0].reasons) == len(spanish[0].reasons)
    assert "pendientes" in " ".join(spanish[0].reasons)


def _es(template):
    if template.startswith("{count} question"):
        return "{count} pregunta(s) pendientes de repaso"
    return template


def test_reasons_are_translated_with_their_words_and_the_basis_keeps_codes():
    spanish = {
        "It is relevant to your specialty ({specialty})": "Pertinente para ({specialty})",
        "Its level ({level}) is a good place to start": "Su nivel ({level}) es un buen comienzo",
        "foundational": "básico",
        "URI": "infección respiratoria alta",
    }
    result = recommend(
        Profile(specialty="family-medicine"),
        {},
        [],
        [URI_GAP],
        LIBRARY,
        NOW,
        translate=lambda text: spanish.get(text, text),
        specialty_label=lambda code: {"family-medicine": "Medicina familiar"}[code],
    )
    uri = next(r for r in result if r.module_id == URI)
    assert "Pertinente para (Medicina familiar)" in uri.reasons
    assert "Su nivel (básico) es un buen comienzo" in uri.reasons
    assert "3 of your 11 infección respiratoria alta encounters" in uri.reasons[0]
    specialty_rule = next(r for r in uri.basis["rules"] if r["code"] == "specialty")
    assert specialty_rule["params"]["specialty_code"] == "family-medicine"
    level_rule = next(r for r in uri.basis["rules"] if r["code"] == "level_start")
    assert level_rule["params"]["level"] == "foundational"
