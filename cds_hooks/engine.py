"""One CDS call end to end: prefetch → context → match → fatigue filters → cards → exposures."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from app.identity import keyed_hash
from app.library.loader import Library
from cds_hooks.auth import AuthError
from cds_hooks.cards import CardSettings, CardTemplate, card_template, render_card
from cds_hooks.fhir_fetch import FetchCache, FetchFailed, FhirFetcher
from cds_hooks.frequency import FrequencyRule, Showing, frequency_rule, shown_too_often
from cds_hooks.index import LibraryIndex
from cds_hooks.matching import Match, TimeBudgetExceeded, match_modules
from cds_hooks.models import FeedbackItem, HookRequest
from cds_hooks.patient_context import context_from_hook, resource_count
from cds_hooks.prefetch import PrefetchUnavailable, resolve_prefetch
from cds_hooks.services import CdsService
from cds_hooks.store import CdsStore, Exposure, FeedbackRecord, JtiClaim

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineSettings:
    """Deployment choices that shape the answer."""

    max_cards: int
    snooze_seconds: float
    repeat_seconds: float  # the frequency window of modules that declare none
    identity_key: bytes
    mastered_quiet_seconds: float = 0.0


class TooManyResources(Exception):
    """A hook call carries more FHIR resources than the deployment accepts (413)."""

    def __init__(self, count: int, limit: int):
        super().__init__(f"{count} resources, limit {limit}")
        self.count = count
        self.limit = limit


@dataclass(frozen=True)
class CallLimits:
    """What one call may cost: resources carried, and a deadline on time.monotonic()."""

    max_resources: int | None = None
    deadline: float | None = None

    def check_time(self, phase: str) -> None:
        """Stop the call (TimeBudgetExceeded) if its deadline has passed, naming the phase."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TimeBudgetExceeded(f"time budget spent before {phase}")

    def check_size(self, request: HookRequest) -> None:
        """Refuse a call that carries more resources than allowed (TooManyResources)."""
        if self.max_resources is None:
            return
        count = resource_count(request.prefetch, request.context)
        if count > self.max_resources:
            raise TooManyResources(count, self.max_resources)


NO_LIMITS = CallLimits()


class Namespace(NamedTuple):
    """Where a call's user, patient and encounter ids name one person: caller and data origin."""

    caller: str  # the JWT issuer (with authentication off, the FHIR server or "unauthenticated")
    origin: tuple[str, ...] = ()  # ("fhirServer", base URL) or ("tenant", claim); () if neither

    @property
    def legacy(self) -> Namespace:
        """The namespace ids had before the data's origin counted: the caller alone."""
        return Namespace(self.caller)


def namespace_of(caller: str, fhir_server: str | None, tenant: str | None) -> Namespace:
    """The caller's namespace for a call naming this FHIR server (else tenant), if any."""
    if fhir_server:
        return Namespace(caller, ("fhirServer", server_origin(fhir_server)))
    if tenant:
        return Namespace(caller, ("tenant", tenant))
    return Namespace(caller)


DEFAULT_PORTS = {"https": 443, "http": 80}


def server_origin(url: str) -> str:
    """A FHIR base URL spelled one way: scheme and host in lower case, no default port or end /."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return parts._replace(scheme=scheme, netloc=netloc).geturl().rstrip("/")


class Keys(NamedTuple):
    """Keyed hashes of the call's user, patient and encounter ('' when it names none)."""

    user: str
    patient: str
    encounter: str


class CallKeys(NamedTuple):
    """Current keys, and legacy keys read until all state older than the upgrade has expired."""

    current: Keys
    legacy: Keys | None  # keyed before the data's origin counted; None when the call names none

    def legacy_user_and_patient(self) -> tuple[str, str] | None:
        """The legacy user and patient keys the fatigue queries read too (None: no others)."""
        return (self.legacy.user, self.legacy.patient) if self.legacy else None


#: Topics (module ids) the user named by (fhirServer, userId) has mastered.
MasteryLookup = Callable[[str | None, str], frozenset[str]]
# Told of every feedback entry on a known card as it arrives (again on a redelivery, so a listener
# must be idempotent): the way a higher layer acts on feedback without this package knowing it.
FeedbackListener = Callable[[FeedbackRecord, Exposure], None]


def no_mastery(_fhir_server: str | None, _user_id: str) -> frozenset[str]:
    """The lookup used when no learning data is connected: nothing is mastered."""
    return frozenset()


class CdsEngine:
    """Answers hook calls from the compiled library; state lives in the CdsStore."""

    def __init__(
        self,
        library: Library,
        index: LibraryIndex,
        store: CdsStore,
        settings: EngineSettings,
        cache: FetchCache | None = None,
        mastered: MasteryLookup = no_mastery,
    ):
        self.library = library
        self.index = index
        self.store = store
        self.settings = settings
        self.cache = cache or FetchCache()
        self.mastered = mastered
        self.feedback_listeners: list[FeedbackListener] = []
        self._card_templates: dict[tuple[str, str], CardTemplate] = {}
        self.frequency_rules: dict[str, FrequencyRule] = {
            module_id: frequency_rule(module, settings.repeat_seconds)
            for module_id, module in library.modules.items()
        }

    def answer(
        self,
        service: CdsService,
        request: HookRequest,
        *,
        namespace: Namespace,
        languages: Sequence[str],
        now: datetime,
        launch_url: str,
        client: str = "",
        remember: bool = True,
        claim: JtiClaim | None = None,
        limits: CallLimits = NO_LIMITS,
    ) -> dict:
        """Return the CDS Hooks response body for one call (raises PrefetchUnavailable → 412).

        remember=False (the `bedside hook` tool) skips fatigue rules and stores no exposure.
        A claim (the caller's JWT id) is committed with the exposures; AuthError on a replay.
        Limits raise TooManyResources before any work, TimeBudgetExceeded between phases and
        while matching.
        """
        limits.check_size(request)
        data = self.patient_data(request)
        limits.check_time("building the patient context")
        context = context_from_hook(
            request.hook, request.context, data, now, self.index.criterion_codes
        )
        matches = match_modules(
            self.index, context, lambda: limits.check_time("finishing matching")
        )
        limits.check_time("choosing cards")
        keys = self.call_keys(namespace, request.context)
        if remember and matches:  # no match: nothing to rank or filter, no lookups
            mastered = self.mastered_topics(request)
            ranked = ranked_by_mastery(matches, mastered)
            moment = now.timestamp()
            if request.hook == "order-sign":  # signing: a card merely shown before comes back
                chosen = self.not_acted_on(ranked, keys, moment, service.id)
            else:
                chosen = self.without_fatigue(ranked, keys, moment, mastered)
        else:
            chosen = matches[: self.settings.max_cards]
        limits.check_time("rendering cards")  # the last check: past it, the call is recorded
        hook_context = {k: v for k, v in request.context.items() if isinstance(v, str)}
        settings = CardSettings(launch_url=launch_url)
        cards = [
            render_card(
                self.card_template(match.module_id, self.language_for(match.module_id, languages)),
                match,
                hook_context=hook_context,
                settings=settings,
            )
            for match in chosen
        ]
        exposures = (
            [
                self.exposure(match, card["uuid"], service, keys.current, now, client)
                for match, card in zip(chosen, cards, strict=True)
            ]
            if remember
            else []
        )
        if (exposures or claim) and not self.store.record_call(exposures, claim):
            raise AuthError("replayed jti")
        return {"cards": cards}

    def record_feedback(self, items: Sequence[FeedbackItem], client: str) -> dict[str, int]:
        """Store each feedback entry once and tell the listeners; overrides snooze the module.

        Only the client a card was sent to may give feedback on it; to any other the card is
        unknown (so feedback can neither snooze another client's user nor probe for cards).
        """
        counts = {"recorded": 0, "alreadyRecorded": 0, "unknownCards": 0}
        for item in items:
            exposure = self.store.exposure(str(item.card))
            if exposure is None or exposure.client != client:
                counts["unknownCards"] += 1
                continue
            record = feedback_record(item, exposure)
            counts["recorded" if self.store.record_feedback(record) else "alreadyRecorded"] += 1
            self.tell_listeners(record, exposure)
        return counts

    def tell_listeners(self, record: FeedbackRecord, exposure: Exposure) -> None:
        """Tell each listener of a stored entry; one that fails is logged, the others still run.

        The entry is stored already, so a listener's catch-up job (`bedside editorial sync` for
        the editorial queue) finds what it missed; the log names no user, patient nor token.
        """
        for listener in self.feedback_listeners:
            try:
                listener(record, exposure)
            except Exception as error:  # a listener's store failing must not fail the EHR's call
                name = getattr(listener, "__qualname__", type(listener).__name__)
                log.warning("CDS feedback listener %s failed: %s", name, type(error).__name__)

    def patient_data(self, request: HookRequest) -> dict[str, object]:
        """Resolve every prefetch key, fetching from the EHR's FHIR server when needed."""
        fetcher = None
        if request.fhirServer is not None:
            authorization = request.fhirAuthorization
            token = authorization.access_token if authorization else None
            scope = authorization.scope if authorization else None
            try:
                fetcher = FhirFetcher(str(request.fhirServer), token, self.cache, scope=scope)
            except FetchFailed as failure:
                raise PrefetchUnavailable("fhirServer", str(failure)) from None
        try:
            return resolve_prefetch(request.prefetch, request.context, fetcher)
        finally:
            if fetcher is not None:
                fetcher.close()

    def without_fatigue(
        self,
        matches: list[Match],
        keys: CallKeys,
        now: float,
        mastered: frozenset[str] = frozenset(),
    ) -> list[Match]:
        """Drop modules this user snoozed, saw too often for this patient, or mastered and saw."""
        modules = [match.module_id for match in matches]
        quiet = self.settings.mastered_quiet_seconds
        hidden, showings = self.store.snoozed_and_shown(
            keys.current.user,
            keys.current.patient,
            modules,
            overridden_since=now - self.settings.snooze_seconds,
            mastered=sorted(mastered.intersection(modules)) if quiet > 0 else (),
            mastered_shown_since=now - quiet,
            legacy=keys.legacy_user_and_patient(),
        )
        hidden |= self.shown_too_often(
            in_current_encounters(showings, keys), keys.current.encounter, now
        )
        return self.capped_without(matches, hidden)

    def not_acted_on(
        self, matches: list[Match], keys: CallKeys, now: float, service_id: str
    ) -> list[Match]:
        """At signing, drop the modules the user acted on, or already saw at a signing.

        A card shown at selection comes back once at signing (the last look at the order in
        hand); the module's frequency rule then counts only the showings at signing, so one
        card is not repeated at every further signing in the encounter.
        """
        hidden, showings = self.store.acted_on_and_shown(
            keys.current.user,
            keys.current.patient,
            [match.module_id for match in matches],
            overridden_since=now - self.settings.snooze_seconds,
            accepted_since=now - self.settings.repeat_seconds,
            legacy=keys.legacy_user_and_patient(),
        )
        at_signing = [
            showing
            for showing in in_current_encounters(showings, keys)
            if showing.service_id == service_id
        ]
        hidden |= self.shown_too_often(at_signing, keys.current.encounter, now)
        return self.capped_without(matches, hidden)

    def shown_too_often(self, showings: list[Showing], encounter_key: str, now: float) -> set[str]:
        """The modules that one more showing now would show more often than their rule allows.

        A repeat window of 0 (CDS_REPEAT_MINUTES=0, for demos and tests) turns the rules off.
        """
        if self.settings.repeat_seconds <= 0:
            return set()
        by_module: dict[str, list[Showing]] = {}
        for showing in showings:
            by_module.setdefault(showing.module_id, []).append(showing)
        return {
            module_id
            for module_id, shown in by_module.items()
            if shown_too_often(self.frequency_rules[module_id], shown, encounter_key, now)
        }

    def capped_without(self, matches: list[Match], hidden: set[str]) -> list[Match]:
        """The matches whose modules are not hidden, in order, at most max_cards of them."""
        kept = [m for m in matches if m.module_id not in hidden]
        return kept[: self.settings.max_cards]

    def mastered_topics(self, request: HookRequest) -> frozenset[str]:
        """The topics the calling user has mastered (by their learning record, if any)."""
        server = str(request.fhirServer) if request.fhirServer is not None else None
        return self.mastered(server, str(request.context["userId"]))

    def call_keys(self, namespace: Namespace, context: dict) -> CallKeys:
        """The call's keys in its namespace, and in its legacy one when that differs."""
        legacy = self.keys_in(namespace.legacy, context) if namespace.origin else None
        return CallKeys(self.keys_in(namespace, context), legacy)

    def keys_in(self, namespace: Namespace, context: dict) -> Keys:
        """The keyed hashes of the call's user, patient and encounter (if it names one)."""
        encounter_id = context.get("encounterId")
        return Keys(
            user=self.identity_key("user", namespace, str(context["userId"])),
            patient=self.identity_key("patient", namespace, str(context["patientId"])),
            encounter=self.identity_key("encounter", namespace, str(encounter_id))
            if encounter_id
            else "",
        )

    def identity_key(self, kind: str, namespace: Namespace, identifier: str) -> str:
        """Return a keyed hash for a user or patient: linkable for fatigue rules, not reversible.

        Without an origin the key is the one made before origins counted, so deployments whose
        callers name none keep their state as it is.
        """
        caller, origin = namespace
        if origin:
            return keyed_hash(self.settings.identity_key, kind, caller, *origin, identifier)
        message = f"{kind}|{caller}|{identifier}".encode()
        return hmac.new(self.settings.identity_key, message, hashlib.sha256).hexdigest()

    def card_template(self, module_id: str, language: str) -> CardTemplate:
        """The module's prepared card in this language (built on first use, then reused)."""
        key = (module_id, language)
        template = self._card_templates.get(key)
        if template is None:
            template = card_template(self.library.modules[module_id], language)
            self._card_templates[key] = template
        return template

    def language_for(self, module_id: str, languages: Sequence[str]) -> str:
        """Pick the first preferred language the module has, else English."""
        available = self.library.modules[module_id]["languages"]
        return next((language for language in languages if language in available), "en")

    def exposure(
        self,
        match: Match,
        card_uuid: str,
        service: CdsService,
        keys: Keys,
        now: datetime,
        client: str,
    ) -> Exposure:
        """Describe a card shown to a user about a patient, and the client it was sent to."""
        module = self.library.modules[match.module_id]
        return Exposure(
            card_uuid=card_uuid,
            module_id=module["id"],
            module_version=module["version"],
            service_id=service.id,
            user_key=keys.user,
            patient_key=keys.patient,
            shown_at=now.timestamp(),
            client=client,
            encounter_key=keys.encounter,
        )


def in_current_encounters(showings: list[Showing], keys: CallKeys) -> list[Showing]:
    """The showings, those in this call's encounter under its legacy key renamed to its current."""
    legacy = keys.legacy.encounter if keys.legacy else ""
    return [
        showing._replace(encounter_key=keys.current.encounter)
        if legacy and showing.encounter_key == legacy
        else showing
        for showing in showings
    ]


def ranked_by_mastery(matches: list[Match], mastered: frozenset[str]) -> list[Match]:
    """Keep the relevance order, but put topics the user has mastered after all the others."""
    if not mastered:
        return matches
    return sorted(matches, key=lambda match: match.module_id in mastered)


def feedback_record(item: FeedbackItem, exposure: Exposure) -> FeedbackRecord:
    """Build the stored record; its key makes a repeated delivery of the same feedback a no-op."""
    reason = item.overrideReason.reason if item.overrideReason else None
    reason_token = f"{reason.system or ''}|{reason.code}" if reason else ""
    accepted = tuple(sorted(str(s.id) for s in item.acceptedSuggestions or ()))
    identity = "|".join(
        [str(item.card), item.outcome, item.outcomeTimestamp, reason_token, *accepted]
    )
    return FeedbackRecord(
        feedback_key=hashlib.sha256(identity.encode()).hexdigest(),
        card_uuid=str(item.card),
        module_id=exposure.module_id,
        user_key=exposure.user_key,
        outcome=item.outcome,
        override_reason=reason.code if reason else None,
        override_reason_system=(reason.system or None) if reason else None,
        accepted_suggestions=accepted,
        outcome_at=item.outcomeTimestamp,
    )
