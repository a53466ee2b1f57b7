"""The learner's transcript inside the app, with links to certificates and exports when mounted."""

from __future__ import annotations

from flask import current_app, url_for

from app.i18n import language
from app.ledger.outputs.transcript import transcript
from app.ui.page_context import learner_id, ledger, runtime
from app.ui.views import bp, page

OUTPUT_ENDPOINTS = {
    "printable": "ledger_outputs.transcript_page",
    "csv": "ledger_outputs.transcript_download",
    "period": "ledger_outputs.period_certificate_page",
    "certificate": "ledger_outputs.activity_certificate_page",
}


@bp.get("/transcript")
def transcript_view() -> str:
    """Every credit and reversal the learner holds, with net totals per credit type."""
    record = transcript(
        ledger().store,
        learner_id(),
        library=runtime().library.modules,
        language=language(),
    )
    return page(
        "ui/transcript.html",
        transcript=record,
        outputs=output_links(),
        certificate_url=certificate_url,
    )


def output_links() -> dict[str, str]:
    """URLs of the ledger's printable transcript, CSV export and period certificate, if mounted."""
    mounted = current_app.view_functions
    return {
        name: url_for(endpoint, lang=language())
        for name, endpoint in OUTPUT_ENDPOINTS.items()
        if endpoint in mounted and name != "certificate"
    }


def certificate_url(sequence: int) -> str | None:
    """URL of the certificate for one credit record, if the certificate pages are mounted."""
    endpoint = OUTPUT_ENDPOINTS["certificate"]
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, sequence=sequence, lang=language())
