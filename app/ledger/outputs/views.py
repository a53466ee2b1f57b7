"""Web pages for ledger outputs: the learner's transcript and certificates, the badge issuer.

Register with `app.register_blueprint(views.bp)`. Learner pages need a SMART session (the learner
is derived from its issuer and fhirUser, exactly as the ledger does); without one they answer 401.
The issuer profile and its keys are public: badge verifiers dereference them.
"""

from __future__ import annotations

import hmac
from dataclasses import replace
from datetime import date

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState

from app import i18n
from app.identity import learner_id
from app.ledger.chain import MAX_SEQUENCE, CreditRecord
from app.ledger.models import LedgerError
from app.ledger.outputs import badges, status_list
from app.ledger.outputs import certificates as certs
from app.ledger.outputs import records as shared
from app.ledger.outputs.exporting import ExportContext, UnsoundRecord, export
from app.ledger.outputs.settings import output_settings
from app.ledger.outputs.transcript import transcript, transcript_csv
from app.ledger.store import LedgerStore
from app.ledger.wiring import ledger_for
from app.public_url import public_base_url, public_url_for

bp = Blueprint("ledger_outputs", __name__, url_prefix="/ledger")
SETTINGS = "ledger_output_settings"


@bp.record_once
def read_settings(state: BlueprintSetupState) -> None:
    """Read the output settings and their files once, at start (a bad file: ConfigError)."""
    state.app.extensions[SETTINGS] = output_settings(state.app.config)


@bp.get("/transcript")
def transcript_page():
    """Show the signed-in learner's transcript (optionally ?since=&until=, inclusive days)."""
    t = learner_transcript()
    return private(certs.render_transcript(t, settings().accreditation), "text/html")


@bp.get("/transcript.csv")
def transcript_download():
    """Download the signed-in learner's transcript as CSV."""
    response = private(transcript_csv(learner_transcript()), "text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="bedside-transcript.csv"'
    return response


@bp.get("/certificates/<int:sequence>")
def activity_certificate_page(sequence: int):
    """Show the certificate of the activity behind one of the learner's credit records."""
    try:
        certificate = certs.activity_certificate(
            ledger_for(current_app).store,
            current_learner_id(),
            sequence,
            library=modules(),
            accreditation=settings().accreditation,
            language=page_language(),
        )
    except LedgerError:
        abort(404, "There is no certificate for that record.")
    first = certificate.credits[0]
    certificate = replace(certificate, badge_url=badge_url(first.sequence, first.record_hash))
    return private(certs.render_certificate(certificate), "text/html")


@bp.get("/badges/credits/<int:sequence>-<record_hash>.jwt")
def credit_badge(sequence: int, record_hash: str):
    """Serve the signed Open Badge of one credit record: what a certificate's QR code opens.

    Public, like the issuer's keys and status lists, so a board can verify without an account;
    the URL needs the record's full hash (printed only on the learner's certificate), and the
    badge names the learner by the opaque ledger id only.
    """
    store = ledger_for(current_app).store
    record = standing_credit(store, sequence, record_hash)
    context = ExportContext(
        store,
        settings(),
        modules(),
        current_app.instance_path,
        page_language(),
        store.database,
    )
    try:
        token = export("badge", [record], context).text.strip()
    except UnsoundRecord:
        abort(409, "This credit record fails the ledger's verification; no badge is issued for it.")
    response = Response(token, mimetype="application/jwt")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = f'inline; filename="bedside-credit-{sequence}.jwt"'
    return response


def standing_credit(store: LedgerStore, sequence: int, record_hash: str) -> CreditRecord:
    """The credit record a badge URL names: 404 when there is none, 410 once it was reversed."""
    numbered = 0 < sequence <= MAX_SEQUENCE
    record = next(store.iter_chain(after=sequence - 1), None) if numbered else None
    if (
        record is None
        or record.sequence != sequence
        or record.kind != "credit"
        or not hmac.compare_digest(record.record_hash, record_hash)
    ):
        abort(404, "No credit record has that number and hash.")
    if sequence in shared.reversed_sequences(store.credits_for(record.learner_id)):
        abort(410, "This credit was reversed; it has no badge.")
    return record


def badge_url(sequence: int, record_hash: str) -> str:
    """The public URL of a credit record's signed badge (on the configured public base URL)."""
    return public_url_for("ledger_outputs.credit_badge", sequence=sequence, record_hash=record_hash)


def page_language() -> str:
    """The language asked for (?lang=), else the UI's (cookie, then the browser's)."""
    return request.args.get("lang") or i18n.language()


@bp.get("/certificates/period")
def period_certificate_page():
    """Show the certificate of the learner's net credit in a period (?since=&until=)."""
    certificate = certs.period_certificate(learner_transcript(), settings().accreditation)
    return private(certs.render_period_certificate(certificate), "text/html")


@bp.get("/badges/issuer")
def issuer_profile():
    """Serve the badge issuer's Open Badges 3.0 Profile."""
    profile = badges.issuer_for(public_base_url(), settings().accreditation.provider).profile()
    return jsonify({"@context": list(badges.CONTEXTS), **profile})


@bp.get("/badges/jwks.json")
def issuer_jwks():
    """Serve the issuer's public keys (the RSA signing key, and any earlier P-256 key)."""
    return jsonify(badges.issuer_jwks(current_app.instance_path, public_base_url()))


@bp.get("/badges/keys/<thumbprint>")
def issuer_key(thumbprint: str):
    """Serve one public key (what a badge's `kid` dereferences to)."""
    key = badges.published_key(current_app.instance_path, thumbprint)
    if key is None:
        abort(404, "No issuer key has that id.")
    return jsonify(badges.public_jwk(key, badges.key_id(public_base_url(), key)))


@bp.get("/badges/status/<int:number>")
def badge_status_list(number: int):
    """Serve a signed Bitstring Status List: the revocation bits of the badges, from reversals."""
    max_age = int(current_app.config.get("BADGE_STATUS_MAX_AGE", status_list.DEFAULT_MAX_AGE))
    token = status_list.current_status_list(
        ledger_for(current_app).store.database,
        public_base_url(),
        badges.issuer_for(public_base_url(), settings().accreditation.provider),
        current_app.instance_path,
        number,
        max_age,
    )
    if token is None:
        abort(404, "No badge status list has that number.")
    response = Response(token, mimetype="application/jwt")
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


def current_learner_id() -> str:
    """Return the signed-in learner's id; 401 without a SMART session."""
    if "smart" not in current_app.extensions:
        abort(401, "Open Bedside from your EHR to see your CME record.")
    from app.smart import current_smart_session

    session = current_smart_session()
    if session is None or not session.user:
        abort(401, "Open Bedside from your EHR to see your CME record.")
    key = str(current_app.config["LEDGER_IDENTITY_KEY"]).encode()
    return learner_id(key, session.issuer, session.user)


def learner_transcript():
    """Build the signed-in learner's transcript for the requested period."""
    since, until = day_arg("since"), day_arg("until")
    return transcript(
        ledger_for(current_app).store,
        current_learner_id(),
        start=shared.day_start(since) if since else None,
        end=shared.day_end(until) if until else None,
        library=modules(),
        language=page_language(),
    )


def day_arg(name: str) -> date | None:
    """Read an optional YYYY-MM-DD query parameter; 400 when malformed."""
    text = request.args.get(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(400, f"{name} is a day written YYYY-MM-DD.")


def modules() -> dict[str, dict]:
    """Return the content modules by id (for titles)."""
    runtime = current_app.extensions.get("cds")
    return dict(runtime.engine.library.modules) if runtime is not None else {}


def settings():
    """Return the output settings read at start, with this request's public URL."""
    base = public_base_url() or current_app.config.get("PUBLIC_BASE_URL")
    read = current_app.extensions[SETTINGS]
    return replace(read, base_url=str(base).rstrip("/") if base else None)


def private(body: str, mimetype: str) -> Response:
    """Wrap a learner's own record so no shared cache keeps it."""
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-store"
    return response
