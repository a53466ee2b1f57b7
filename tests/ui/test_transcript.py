"""The transcript page: credits from the ledger, net totals, certificates and exports."""

from __future__ import annotations

import re

from tests.ui.helpers import SEPSIS, answer_all, get, launch, post, result_url, start_case


def pass_the_sepsis_case(browser, module: dict) -> None:
    """Pass the sepsis case and claim its credit."""
    first = start_case(browser)
    post(browser, result_url(first), answer_all(browser, first, module, correctly=True))


def test_an_empty_transcript_says_how_to_earn_credit(browser, auth_server):
    launch(browser, auth_server)
    assert "No credit recorded yet" in get(browser, "/app/transcript")


def test_the_transcript_lists_the_credit_with_its_certificate(browser, auth_server, sepsis):
    launch(browser, auth_server, SEPSIS)
    pass_the_sepsis_case(browser, sepsis)
    page = get(browser, "/app/transcript")
    assert sepsis["title"]["en"] in page
    assert "0.25" in page and "AMA PRA Category 1 Credit™" in page
    assert "Net total" in page
    [certificate] = re.findall(r'href="(/ledger/certificates/\d+[^"]*)"', page)
    assert get(browser, certificate.replace("&amp;", "&"))
    for link in ("/ledger/transcript?", "/ledger/transcript.csv?", "/ledger/certificates/period?"):
        assert link in page


def test_the_transcript_in_spanish(browser, auth_server, sepsis):
    launch(browser, auth_server, SEPSIS)
    pass_the_sepsis_case(browser, sepsis)
    page = get(browser, "/app/transcript", query_string={"lang": "es"})
    assert sepsis["title"]["es"] in page
    assert "0,25" in page and "Total neto" in page
    assert "/ledger/certificates/1?lang=es" in page
