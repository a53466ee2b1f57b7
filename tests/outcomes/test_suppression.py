"""Small-cell suppression: a lone hidden group would be given away by the total, so its complement
is hidden too."""

from app.stats import Rate, suppressed_groups


def rate(eligible: int, numerator: int = 0) -> Rate:
    """A rate with this many eligible cases (no exclusions)."""
    return Rate(numerator, eligible)


def test_a_lone_small_cell_takes_the_next_smallest_group_with_it():
    rates = {"A": rate(3), "B": rate(40), "C": rate(12), "D": rate(12)}
    assert suppressed_groups(rates) == {"A", "C"}  # ties break by name


def test_two_small_cells_already_protect_each_other():
    rates = {"A": rate(3), "B": rate(2), "C": rate(40)}
    assert suppressed_groups(rates) == {"A", "B"}


def test_no_small_cell_hides_nothing():
    assert suppressed_groups({"A": rate(5), "B": rate(40)}) == set()


def test_unlisted_cases_count_as_already_unknown():
    rates = {"A": rate(3), "B": rate(40), "unattributed": rate(6)}
    assert suppressed_groups(rates, unshown=["unattributed"]) == {"A"}
    empty = {"A": rate(3), "B": rate(40), "unattributed": rate(0)}
    assert suppressed_groups(empty, unshown=["unattributed"]) == {"A", "B", "unattributed"}


def cases_for(clinician: str, count: int) -> list:
    """count eligible, met cases of one clinician."""
    from app.outcomes.cases import MeasureCase

    return [
        MeasureCase(
            "m", f"p{clinician}{n}", f"e{clinician}{n}", clinician, None, True, False, None, True
        )
        for n in range(count)
    ]


def test_programme_table_cli_and_measure_reports_hide_the_complement():
    from datetime import UTC, datetime

    from app.dashboards.panels import clinician_rows
    from app.outcomes import reports
    from app.outcomes.outcomes_commands import clinician_rows as cli_rows

    cases = (
        cases_for("Practitioner/A", 3)
        + cases_for("Practitioner/B", 9)
        + cases_for("Practitioner/C", 30)
    )
    hidden = {who for who, _, suppressed in clinician_rows(cases) if suppressed}
    assert hidden == {"Practitioner/A", "Practitioner/B"}
    assert {who for who, row in cli_rows(cases).items() if row["suppressed"]} == hidden
    when = datetime(2026, 1, 1, tzinfo=UTC)
    bundle = reports.programme_reports(cases, when, when)
    subjects = {e["resource"].get("subject", {}).get("reference") for e in bundle["entry"]}
    assert subjects == {None, "Practitioner/C"}  # the programme summary, and C alone
