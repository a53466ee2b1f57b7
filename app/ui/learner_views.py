"""The learner's own pages: profile (view, correct, export, delete) and "what next"."""

from __future__ import annotations

import json
import logging
import sqlite3

from flask import Response, current_app, redirect, request, url_for
from flask_babel import gettext
from sqlalchemy.exc import OperationalError as DatabaseBusy

from app import i18n
from app.case_conferences import case_conferences
from app.collaboration import collaboration
from app.collaboration.store import CDS_REPORTER
from app.journal_clubs import journal_clubs
from app.ui import labels
from app.ui.learner_profile import (
    NAME_FIELDS,
    CertificateName,
    LearnerView,
    ProfileFormError,
    certificate_name,
    due_by_module,
    export_data,
    learner_view,
    mastery_rows,
    profile_from_form,
    remove_certificate_name,
    save_certificate_name,
    save_profile,
)
from app.ui.learning_flow import learning_store
from app.ui.next_flow import practice_data, recommendations
from app.ui.offline import offline_readable
from app.ui.page_context import learner_id, runtime, smart_session
from app.ui.views import bp, error_page, page

log = logging.getLogger(__name__)

bp.context_processor(labels.template_helpers)

NOTICES = (
    "saved",
    "deleted",
    "name-saved",
    "name-removed",
    "email-sent",
    "email-saved",
    "email-stopped",
)


@bp.get("/profile")
def profile_view() -> str:
    """Specialty and its source, gaps, language, mastery per topic and reviews due."""
    return profile_page(learner_view())


@bp.post("/profile")
def profile_update() -> Response | tuple[str, int]:
    """Keep the learner's corrections; a bad value re-shows the page with a message (400)."""
    view = learner_view()
    try:
        profile = profile_from_form(request.form, view.profile)
    except ProfileFormError as error:
        return profile_page(view, form_error(str(error))), 400
    save_profile(profile)
    return redirect(url_for("ui.profile_view", lang=profile.language, done="saved"), 303)


@bp.post("/profile/certificate-name")
def certificate_name_update() -> Response | tuple[str, int]:
    """Keep the name and credentials to print on certificates, with the learner's consent."""
    try:
        save_certificate_name(request.form)
    except ProfileFormError as error:
        typed = CertificateName(**{f: request.form.get(f, "") for f in NAME_FIELDS})
        return profile_page(learner_view(), name_error=form_error(str(error)), typed=typed), 400
    return redirect(url_for("ui.profile_view", done="name-saved") + "#certificate-name", 303)


@bp.post("/profile/certificate-name/remove")
def certificate_name_remove() -> Response:
    """Withdraw consent: erase the name and identifiers; certificates say how to add them."""
    remove_certificate_name()
    return redirect(url_for("ui.profile_view", done="name-removed") + "#certificate-name", 303)


@bp.get("/profile/export")
def profile_export() -> Response:
    """Download the learner's learning data and credit summary as JSON."""
    body = json.dumps(export_data(), indent=2, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="bedside-my-learning-data.json"'},
    )


@bp.get("/profile/delete")
def profile_delete_confirm() -> str:
    """Ask before deleting: what goes, and why ledger credits stay."""
    return page("ui/profile_delete.html")


@bp.post("/profile/delete")
def profile_delete() -> Response:
    """Delete learning data and the reporting identity (never ledger credits or attempts)."""
    learning_store().delete(learner_id())
    remove_certificate_name()  # name, board and licence ids, birth day: board reporting stops
    current_app.extensions["delivery"].delete(learner_id())  # the e-mail address goes too
    session = smart_session()  # items filed under their CDS keys are detached too
    keys = collaboration().reporter_keys(learner_id(), session.issuer, session.user)
    erasable = collaboration().store.forget_display_name(learner_id(), keys)  # posts stay
    forget_cds_use(erasable)
    # club memberships and reflections stay in their clubs' record, like posts in threads
    journal_clubs().detach_reports(learner_id())
    case_conferences().delete_unapproved(learner_id())  # approved cases carry a discussion
    return redirect(url_for("ui.profile_view", done="deleted"), 303)


def forget_cds_use(reporter_keys: list[str]) -> None:
    """Delete what the CDS store holds under the keys only this learner was linked to."""
    cds = current_app.extensions.get("cds")
    if cds is None:
        return
    for key in sorted(reporter_keys):
        if key.startswith(CDS_REPORTER):
            cds.engine.store.forget_user(key.removeprefix(CDS_REPORTER))


@bp.errorhandler(DatabaseBusy)
@bp.errorhandler(sqlite3.OperationalError)
def learning_store_busy(error: Exception) -> tuple[str, int]:
    """The database stayed locked: say so; the transaction was rolled back, nothing changed."""
    log.warning("Learning data not saved: %s", error)
    return error_page(
        503,
        gettext("Bedside is busy"),
        gettext("Your change could not be saved just now; nothing was changed. Try again."),
    )


@bp.get("/next")
@offline_readable
def next_view() -> str:
    """Ranked recommendations, each with its reasons and the numbers behind them."""
    view = learner_view()
    practice = practice_data()
    return page(
        "ui/next.html",
        recommendations=recommendations(view, practice),
        practice=practice,
        modules=runtime().library.modules,
        profile=view.profile,
    )


def profile_page(
    view: LearnerView,
    error: str | None = None,
    name_error: str | None = None,
    typed: CertificateName | None = None,
    **extra: object,
) -> str:
    """Render the profile page for a learner view."""
    modules = sorted(
        runtime().library.modules.values(), key=lambda m: i18n.localized(m["title"]).lower()
    )
    notice = request.args.get("done")
    return page(
        "ui/profile.html",
        view=view,
        profile=view.profile,
        specialties=sorted(labels.SPECIALTIES, key=labels.specialty),
        modules=modules,
        modules_by_id=runtime().library.modules,
        language_names=i18n.LANGUAGE_NAMES,
        mastery=mastery_rows(view.mastery, runtime().library.modules),
        due=due_by_module(view.due, runtime().library.modules),
        error=error,
        printed=typed or certificate_name(),
        name_error=name_error,
        notice=notice if notice in NOTICES else None,
        **extra,
    )


def form_error(field: str) -> str:
    """The message for a profile field Bedside could not accept."""
    messages = {
        "specialty": gettext("Choose a specialty from the list."),
        "gaps": gettext("Choose topics from the library list."),
        "language": gettext("Choose English, Spanish or French."),
        "consent": gettext("Tick the box to agree that Bedside prints your name on certificates."),
        "name": gettext("Enter your first and last name (up to 100 characters each)."),
        "npi": gettext("An NPI is 10 digits with a valid check digit; leave it empty if unsure."),
        "board_id": gettext(
            "A board ID is letters, digits and hyphens, up to 20 characters; leave it empty if "
            "unsure."
        ),
        "birth_month_day": gettext(
            "Enter your month and day of birth as MM/DD, for example 07/22, without the year; "
            "or leave it empty."
        ),
    }
    return messages.get(field, gettext("This form could not be accepted."))
