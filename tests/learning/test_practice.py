"""Tests for practice-data gap sentences."""

from pathlib import Path

import pytest
import yaml

from app.devtools.synthetic.dataset import expected_summary, generate_dataset
from app.learning.practice import TEMPLATES, practice_gaps_from
from app.stats import Rate

MEASURES_DIR = Path(__file__).resolve().parents[2] / "content" / "measures"


@pytest.fixture(scope="module")
def measures():
    return {
        p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in MEASURES_DIR.glob("*.yaml")
    }


URI = "uri-appropriate-treatment"


def test_uri_sentence_counts_antibiotics_not_numerator(measures):
    mine = Rate(numerator=8, denominator=12, excluded=1)  # 11 eligible, 3 with antibiotic
    peers = [Rate(9, 10), Rate(18, 20), Rate(8, 10)]
    [gap] = practice_gaps_from({URI: mine}, {URI: peers}, measures)
    assert gap.sentence() == (
        "3 of your 11 URI encounters this quarter had an antibiotic ordered; peer median 1 of 10"
    )
    assert gap.module_ids == ("uri-antibiotics-adults",)
    assert gap.basis["eligible"] == 11
    assert gap.basis["peer_median_rate"] == pytest.approx(0.9)


def test_small_cells_never_make_a_claim(measures):
    small_mine = Rate(numerator=0, denominator=4)
    assert practice_gaps_from({URI: small_mine}, {URI: [Rate(10, 10)]}, measures) == []
    mine = Rate(numerator=2, denominator=10)
    assert practice_gaps_from({URI: mine}, {URI: [Rate(4, 4), Rate(3, 3)]}, measures) == []


def test_no_gap_when_close_to_or_better_than_peers(measures):
    mine = Rate(numerator=9, denominator=10)
    assert practice_gaps_from({URI: mine}, {URI: [Rate(19, 20)]}, measures) == []


def test_generic_measure_sentence_and_translation(measures):
    hf = "hfref-beta-blocker"
    [gap] = practice_gaps_from({hf: Rate(5, 10)}, {hf: [Rate(8, 10)]}, measures, "this year")
    assert gap.sentence() == (
        "5 of your 10 heart failure (HFrEF) encounters this year met the measure; "
        "peer median 8 of 10"
    )
    spanish = {TEMPLATES["measure_gap"]: "{met} de sus {eligible} casos ({label}) {period}"}
    assert (
        gap.sentence(lambda t: spanish.get(t, t))
        == "5 de sus 10 casos (heart failure (HFrEF)) this year"
    )


def test_unknown_measure_is_skipped():
    assert practice_gaps_from({"x": Rate(1, 10)}, {"x": [Rate(9, 10)]}, {}) == []


def test_synthetic_dataset_gaps_are_consistent(measures):
    by_clinician = expected_summary(generate_dataset())[URI]["by_clinician"]
    rates = {who: Rate(**counts) for who, counts in by_clinician.items()}
    for who, mine in rates.items():
        peers = [r for other, r in rates.items() if other != who]
        for gap in practice_gaps_from({URI: mine}, {URI: peers}, measures):
            assert gap.params["events"] == mine.eligible - mine.numerator
            assert not mine.small_cell
            assert gap.basis["shortfall"] >= 0.10
