"""FHIR R4 MeasureReport downloads from the dashboards, built for the request and never stored.

Programme: summary reports with groups of fewer than 5 eligible cases left out. A clinician's
page: that clinician's summaries (whoever may open the page) and, only for the clinician
themself (sources.may_see_cases), one `individual` report per own case.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Response

from app.dashboards import sources
from app.dashboards.views import bp, find_clinician
from app.errors import ApiError
from app.outcomes import reports
from app.outcomes.cases import MeasureCase
from app.outcomes.practice_data import PracticeDataset

FHIR_JSON = "application/fhir+json"


def fhir_download(bundle: dict, filename: str) -> Response:
    """A Bundle as a FHIR JSON attachment."""
    response = Response(json.dumps(bundle, indent=2) + "\n", mimetype=FHIR_JSON)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def export_data() -> PracticeDataset:
    """The dashboard data, or a 404 JSON error when nothing has been loaded."""
    data = sources.dashboard_data()
    if data is None:
        raise ApiError(404, "no_practice_data", "No practice data has been loaded yet.")
    return data


def clinician_export(clinician_id: str, individual: bool = False) -> tuple[PracticeDataset, str]:
    """(data, 'Practitioner/<id>') for a clinician's export, or a 404/403 JSON error."""
    data = export_data()
    who = find_clinician(data, clinician_id)
    if who is None:
        raise ApiError(404, "unknown_clinician", "No practice data for this clinician.")
    if not sources.may_open(who):
        raise ApiError(403, "forbidden", "A clinician's reports are for that clinician only.")
    if individual and not sources.may_see_cases(who):
        raise ApiError(403, "forbidden", "Individual reports are for the clinician themself.")
    return data, who


def all_cases(data: PracticeDataset) -> list[MeasureCase]:
    """Every case of every measure."""
    return [case for cases in data.cases.values() for case in cases]


def directions(data: PracticeDataset) -> dict[str, str]:
    """Each measure's direction (for improvementNotation)."""
    return {measure_id: m.direction for measure_id, m in data.measures.items()}


def period(data: PracticeDataset) -> tuple[datetime, datetime]:
    """The reporting period: the data's start (else its end) to its end."""
    return data.start or data.end, data.end


@bp.get("/measure-reports/programme.json")
def programme_reports():
    """The programme's summary MeasureReports (small cells left out)."""
    data = export_data()
    start, end = period(data)
    bundle = reports.programme_reports(
        all_cases(data), start, end, created=datetime.now(UTC), directions=directions(data)
    )
    return fhir_download(bundle, "bedside-programme-measurereports.json")


@bp.get("/clinicians/<clinician_id>/measure-reports/summary.json")
def clinician_reports(clinician_id: str):
    """One clinician's summary MeasureReports (for whoever may open their page)."""
    data, who = clinician_export(clinician_id)
    start, end = period(data)
    bundle = reports.clinician_reports(
        all_cases(data), who, start, end, created=datetime.now(UTC), directions=directions(data)
    )
    return fhir_download(bundle, f"bedside-{clinician_id}-measurereports.json")


@bp.get("/clinicians/<clinician_id>/measure-reports/individual.json")
def individual_reports(clinician_id: str):
    """One individual MeasureReport per own case: only for the clinician themself, never stored."""
    data, who = clinician_export(clinician_id, individual=True)
    bundle = reports.individual_reports(
        all_cases(data), who, created=datetime.now(UTC), directions=directions(data)
    )
    return fhir_download(bundle, f"bedside-{clinician_id}-individual-measurereports.json")
