"""Journal clubs (/app/clubs): create, invite, join, reflect for credit, close with a summary.

A facilitator (role from the roles file) creates a club on a module or a guideline citation with
a discussion window, and shares its signed invite link; a signed-in learner who follows it joins.
Members post structured reflections (patient-data guard, Markdown as in discussions), each
claiming the member's club credit once, and report one to the moderators as they do a post.
Moderators hide a reflection (then only its author sees that it was hidden) or mark its reports
handled, from the moderation page. Non-members get 404 for everything of a club.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app, redirect, request, url_for
from flask_babel import gettext, lazy_gettext
from sqlalchemy.exc import DBAPIError
from werkzeug.wrappers import Response

from app.collaboration.posting import PostingTooFast, last_page, page_span
from app.collaboration.roles import FACILITATE, MODERATE
from app.journal_clubs import journal_clubs
from app.journal_clubs.invites import InviteRefused, invite_token, invited_club
from app.journal_clubs.participation import club_topic_module, settle_member
from app.journal_clubs.store import Club, ClubClosed, ClubNotFound, Reflection
from app.ledger.models import PatientDataRefused
from app.ledger.rules import journal_club_key
from app.smart.sessions import LAUNCH_ARG
from app.ui.discussion_views import (
    REFLECTIONS_LIST,
    FormAnswer,
    answer_with_page,
    back_from_moderation,
    can,
    form_answer,
    refused_text,
    rendered,
    require,
    store,
    text_error,
    too_fast_text,
)
from app.ui.page_context import learner_id, ledger, runtime
from app.ui.views import bp, error_page, page

TITLE_MAX, TOPIC_MAX, TEXT_MAX = 120, 300, 3000


# An unknown club, or one this learner is not a member of; a forged, damaged or expired invite.
answer_with_page(
    ClubNotFound, 404, lazy_gettext("Not found"), lazy_gettext("There is no such journal club.")
)
answer_with_page(
    InviteRefused,
    400,
    lazy_gettext("Invite link not valid"),
    lazy_gettext(
        "This invite link is not valid or has expired. Ask the facilitator for a new one."
    ),
)


@bp.route("/clubs", methods=["GET", "POST"])
def clubs() -> Response | tuple[str, int] | str:
    """The learner's clubs; facilitators also create one here."""
    values = {"title": "", "topic_kind": "module", "module": "", "guideline": ""}
    values |= {"opens": today().isoformat(), "closes": (today() + timedelta(days=14)).isoformat()}
    errors: dict[str, str] = {}
    if request.method == "POST":
        require(FACILITATE)
        values = {key: request.form.get(key, "").strip() for key in values}
        club_id, errors = create_from_form(values)
        if club_id:
            return redirect(url_for("ui.club_view", club_id=club_id), 303)
    html = page(
        "ui/clubs.html",
        clubs=journal_clubs().clubs_of(learner_id()),
        modules=sorted(runtime().library.modules.values(), key=lambda m: m["id"]),
        facilitator=can(FACILITATE),
        values=values,
        errors=errors,
    )
    return (html, 400) if errors else html


def create_from_form(values: dict[str, str]) -> tuple[str | None, dict[str, str]]:
    """Create the club the form describes; its id, or what is wrong with the form."""
    errors: dict[str, str] = {}
    if refused := text_error(values["title"], minimum=5, maximum=TITLE_MAX):
        errors["title"] = refused
    module = runtime().library.modules.get(values["module"])
    topic = values["guideline"] if values["topic_kind"] == "guideline" else values["module"]
    if values["topic_kind"] == "module" and module is None:
        errors["topic"] = gettext("Choose a module from the library.")
    elif values["topic_kind"] == "guideline" and (
        refused := text_error(topic, minimum=5, maximum=TOPIC_MAX)
    ):
        errors["topic"] = refused
    elif values["topic_kind"] not in {"module", "guideline"}:
        errors["topic"] = gettext("Choose a module or a guideline.")
    opens, closes = form_day(values["opens"]), form_day(values["closes"])
    if opens is None or closes is None or closes < opens:
        errors["window"] = gettext("Give an opening day and a closing day on or after it.")
    if errors or opens is None or closes is None:
        return None, errors
    try:
        club_id = journal_clubs().create_club(
            title=values["title"],
            facilitator_id=learner_id(),
            topic_kind=values["topic_kind"],
            topic=topic,
            topic_version=str(module["version"]) if module and topic == module["id"] else None,
            opens_at=datetime.combine(opens, time.min, UTC),
            closes_at=datetime.combine(closes, time.max, UTC),
        )
    except PatientDataRefused:
        return None, {"title": refused_text()}
    return club_id, {}


@bp.route("/clubs/join/<token>", methods=["GET", "POST"])
def club_join(token: str) -> Response | str:
    """Follow an invite link: see the club, then join it."""
    club = journal_clubs().club(invited_club(current_app.secret_key, token))
    if request.method == "POST":
        journal_clubs().join(club.club_id, learner_id())
        return redirect(url_for("ui.club_view", club_id=club.club_id), 303)
    return page("ui/club_join.html", club=club, token=token)


@bp.route("/clubs/<club_id>", methods=["GET", "POST"])
def club_view(club_id: str) -> Response | FormAnswer:
    """A club for its members: topic, window, reflections, the reflection form, credit.

    Viewing it writes nothing; a member's POST settles their credit claim if one failed after
    their reflection was saved (as does `bedside clubs settle`).
    """
    club = journal_clubs().club_for_member(club_id, learner_id())
    values = {"practice_change": "", "barriers": ""}
    errors: dict[str, str] = {}
    too_fast = None
    if request.method == "POST":
        values = {key: request.form.get(key, "").strip() for key in values}
        errors = reflection_errors(values)
        if not errors:
            try:
                journal_clubs().reflect(
                    club_id,
                    learner_id(),
                    values["practice_change"],
                    values["barriers"],
                    datetime.now(UTC),
                )
            except PatientDataRefused:
                errors["practice_change"] = refused_text()
            except ClubClosed:
                errors["practice_change"] = gettext("The club is not open for reflections.")
            except PostingTooFast as refused:
                errors["practice_change"], too_fast = too_fast_text(refused), refused
        settle_pending_claim(club)  # this reflection's claim, or one an earlier post left
        if not errors:
            newest = last_page(journal_clubs().reflection_count(club_id, shown_to=reader()))
            return redirect(url_for("ui.club_view", club_id=club_id, page=newest), 303)
    return form_answer(club_page(club, values, errors), errors, too_fast)


def settle_pending_claim(club: Club) -> None:
    """Record the member's failed credit claim; a still-busy ledger leaves it for the CLI."""
    try:
        settle_member(
            journal_clubs(), ledger().store, ledger().policy, club, learner_id(), club_module(club)
        )
    except DBAPIError as error:
        current_app.logger.warning(
            "club credit claim left for `bedside clubs settle`: %s", type(error).__name__
        )


def club_module(club: Club) -> Mapping[str, Any] | None:
    """The library's version of the club's module (None for a guideline or a version now gone)."""
    return club_topic_module(club, runtime().library.modules)


def reflection_errors(values: dict[str, str]) -> dict[str, str]:
    """What is wrong with a reflection's two answers."""
    errors = {}
    for field in values:
        if refused := text_error(values[field], minimum=2, maximum=TEXT_MAX):
            errors[field] = refused
    return errors


def reader() -> str | None:
    """Whose view of a club's reflections to show: the member's own, or all for a moderator."""
    return None if can(MODERATE) else learner_id()


def club_page(club: Club, values: dict, errors: dict) -> str:
    """Render a club for a member (the facilitator also sees the invite link and close form)."""
    count = journal_clubs().reflection_count(club.club_id, shown_to=reader())
    span = page_span(count, request.args.get("page"))
    reflections = journal_clubs().reflections(
        club.club_id, limit=span.size, offset=span.offset, shown_to=reader()
    )
    me = learner_id()
    credited = [
        record
        for record in ledger().store.credits_for(me)
        if record.activity_key == journal_club_key(club.club_id) and record.kind == "credit"
    ]
    facilitating = club.facilitator_id == me
    invite = None
    if facilitating:
        token = invite_token(current_app.secret_key, club.club_id)
        # without this facilitator's launch: the link is for other browsers and other launches
        invite = url_for("ui.club_join", token=token, _external=True, **{LAUNCH_ARG: None})
    return page(
        "ui/club.html",
        club=club,
        module=runtime().library.modules.get(club.topic) if club.topic_kind == "module" else None,
        reflections=reflections,
        span=span,
        names=store().display_names({r.author_id for r in reflections}),
        members=len(journal_clubs().members(club.club_id)),
        open_now=club.open_at(datetime.now(UTC)),
        credited=credited,
        facilitating=facilitating,
        invite=invite,
        moderator=can(MODERATE),
        rendered=rendered,
        values=values,
        errors=errors,
    )


@bp.post("/clubs/<club_id>/close")
def club_close(club_id: str) -> Response | tuple[str, int] | str:
    """The facilitator closes the club with a summary."""
    club = journal_clubs().club_for_member(club_id, learner_id())
    settle_pending_claim(club)
    if club.facilitator_id != learner_id():
        return error_page(
            403,
            gettext("Not allowed"),
            gettext("Only the club's facilitator closes it, so nothing was changed."),
        )
    summary = request.form.get("summary", "").strip()
    refused = text_error(summary, minimum=5, maximum=TEXT_MAX)
    if not refused:
        try:
            journal_clubs().close(club_id, learner_id(), summary, datetime.now(UTC))
        except PatientDataRefused:
            refused = refused_text()
        except ClubClosed:
            pass  # closed already: the summary stays as first written
    if refused:  # the summary comes back in its form, to be rewritten
        values = {"practice_change": "", "barriers": "", "summary": summary}
        return club_page(club, values, {"summary": refused}), 400
    return redirect(url_for("ui.club_view", club_id=club_id), 303)


@bp.post("/clubs/<club_id>/reflections/<reflection_id>/report")
def reflection_report(club_id: str, reflection_id: str) -> Response:
    """A member flags a reflection for the moderators (once per member until it is handled)."""
    journal_clubs().club_for_member(club_id, learner_id())
    reflection = journal_clubs().reflection(reflection_id)
    if reflection.club_id != club_id or (reflection.hidden and not can(MODERATE)):
        raise ClubNotFound(reflection_id)
    if journal_clubs().report_reflection(reflection_id, learner_id()):
        store().notify_reflection_reported(reflection_id, learner_id())
    return redirect(url_for("ui.club_view", club_id=club_id, reported=reflection_id), 303)


@bp.post("/clubs/reflection/<reflection_id>/hide")
def reflection_hide(reflection_id: str) -> Response:
    """A moderator hides a reflection from the other members (its text is kept)."""
    return set_reflection_hidden(reflection_id, hidden=True)


@bp.post("/clubs/reflection/<reflection_id>/restore")
def reflection_restore(reflection_id: str) -> Response:
    """A moderator shows a hidden reflection again."""
    return set_reflection_hidden(reflection_id, hidden=False)


@bp.post("/clubs/reflection/<reflection_id>/handled")
def reflection_handled(reflection_id: str) -> Response:
    """A moderator marks a reflection's reports handled: it leaves the list until reported again."""
    require(MODERATE)
    reflection = journal_clubs().reflection(reflection_id)
    journal_clubs().dismiss_reports(reflection_id, learner_id())
    return back_to(reflection)


def set_reflection_hidden(reflection_id: str, *, hidden: bool) -> Response:
    """Hide or restore a reflection (moderators only), then go back where the moderator was."""
    require(MODERATE)
    reflection = journal_clubs().reflection(reflection_id)
    journal_clubs().set_hidden(reflection_id, learner_id(), hidden=hidden)
    return back_to(reflection)


def back_to(reflection: Reflection) -> Response:
    """The moderation list of reflections, or the club page the moderator acted on."""
    club_page_url = url_for("ui.club_view", club_id=reflection.club_id)
    return back_from_moderation(club_page_url, show=REFLECTIONS_LIST)


def form_day(value: str) -> date | None:
    """A YYYY-MM-DD form value as a date (None when it is not one)."""
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None


def today() -> date:
    """Today's date in UTC."""
    return datetime.now(UTC).date()
