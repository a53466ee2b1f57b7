"""The app's transcript says its dates are UTC days, as the certificates and PARS use them."""

from __future__ import annotations

from tests.ui.helpers import SEPSIS, get, launch
from tests.ui.test_transcript import pass_the_sepsis_case


def test_the_transcript_date_column_is_labelled_utc(browser, auth_server, sepsis):
    launch(browser, auth_server, SEPSIS)
    pass_the_sepsis_case(browser, sepsis)
    page = get(browser, "/app/transcript")
    assert '<th scope="col">Date (UTC)</th>' in page
    assert 'data-label="Date (UTC)" class="date">' in page
