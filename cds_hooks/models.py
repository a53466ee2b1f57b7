"""CDS Hooks 2.0 wire models: requests and feedback in, cards out (optional fields omitted)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from app.fhir_json import parse_time

Indicator = Literal["info", "warning", "critical"]
# A required string with something in it: incoming strings are stripped, so a blank one is refused
# (the pattern says so in the OpenAPI document too).
NonBlank = Annotated[str, Field(min_length=1, pattern=r"\S")]
# Text stored from feedback (a code, a system, a time): no control characters (PostgreSQL
# stores no NUL)
PlainText = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]*$")]


class Incoming(BaseModel):
    """Base for request models: unknown extension fields are tolerated, as the spec asks."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)


class FhirAuthorization(Incoming):
    """The access token the EHR grants for fetching what prefetch did not carry."""

    access_token: NonBlank = Field(repr=False)
    token_type: Literal["Bearer"]
    expires_in: int | None = None
    scope: str
    subject: str
    patient: str | None = None


class HookRequest(Incoming):
    """The body of POST /cds-services/{id}."""

    # fhirServer is required with fhirAuthorization, said in a form every JSON Schema draft reads
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"not": {"required": ["fhirAuthorization"]}}, {"required": ["fhirServer"]}]
        }
    )

    hook: NonBlank
    hookInstance: UUID
    fhirServer: HttpUrl | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None

    @model_validator(mode="after")
    def server_comes_with_authorization(self) -> HookRequest:
        """fhirServer is required when fhirAuthorization is present."""
        if self.fhirAuthorization is not None and self.fhirServer is None:
            raise ValueError("fhirServer is required when fhirAuthorization is present")
        return self


class PatientViewContext(Incoming):
    """Context of patient-view."""

    userId: NonBlank
    patientId: NonBlank
    encounterId: str | None = None


class DraftOrdersBundle(Incoming):
    """A Bundle of draft orders (fields may be incomplete)."""

    resourceType: Literal["Bundle"]
    entry: list[dict[str, Any]] = []


class OrderSignContext(PatientViewContext):
    """Context of order-sign."""

    draftOrders: DraftOrdersBundle


class OrderSelectContext(OrderSignContext):
    """Context of order-select."""

    selections: list[str] = Field(min_length=1)


class EncounterStartContext(PatientViewContext):
    """Context of encounter-start."""

    encounterId: NonBlank


CONTEXT_MODELS: dict[str, type[PatientViewContext]] = {
    "patient-view": PatientViewContext,
    "order-select": OrderSelectContext,
    "order-sign": OrderSignContext,
    "encounter-start": EncounterStartContext,
}


class Coding(BaseModel):
    """A FHIR Coding as Bedside sends it in cards: strict, so nothing unexpected goes out."""

    model_config = ConfigDict(extra="forbid")
    system: PlainText | None = None
    code: PlainText
    display: str | None = None


class ReceivedCoding(Coding):
    """A Coding a client sends: other members (`extension`, FHIR's `userSelected`) are tolerated."""

    model_config = ConfigDict(extra="allow")


class OverrideReason(BaseModel):
    """An override reason in feedback."""

    model_config = ConfigDict(extra="allow")
    reason: ReceivedCoding | None = None
    userComment: str | None = Field(default=None, max_length=2000)


class AcceptedSuggestion(BaseModel):
    """A suggestion the user accepted."""

    model_config = ConfigDict(extra="allow")
    id: UUID


class FeedbackItem(BaseModel):
    """One feedback entry about one card."""

    model_config = ConfigDict(extra="allow")
    card: UUID
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: PlainText = Field(min_length=1, json_schema_extra={"format": "date-time"})

    @field_validator("outcomeTimestamp")
    @classmethod
    def is_a_timestamp(cls, value: str) -> str:
        """Require an ISO 8601 instant."""
        if parse_time(value) is None or "T" not in value:
            raise ValueError("must be an ISO 8601 date-time")
        return value


class FeedbackRequest(BaseModel):
    """The body of POST /cds-services/{id}/feedback."""

    model_config = ConfigDict(extra="allow")
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)


class Outgoing(BaseModel):
    """Base for response models: strict, dumped without empty optional fields."""

    model_config = ConfigDict(extra="forbid")

    def wire(self) -> dict:
        """Dump for the wire: optional attributes without a value are omitted."""
        return self.model_dump(mode="json", exclude_none=True)


class Source(Outgoing):
    """Where a card's advice comes from."""

    label: str = Field(min_length=1)
    url: HttpUrl | None = None
    icon: HttpUrl | None = None
    topic: Coding | None = None


class Action(Outgoing):
    """A suggested change to the EHR's data."""

    type: Literal["create", "update", "delete"]
    description: str = Field(min_length=1)
    resource: dict[str, Any] | None = None
    resourceId: list[str] | None = None


class Suggestion(Outgoing):
    """One suggestion on a card."""

    label: str = Field(min_length=1)
    uuid: UUID
    isRecommended: bool | None = None
    actions: list[Action] | None = None


class Link(Outgoing):
    """A link to the SMART app (smart) or to a page (absolute)."""

    label: str = Field(min_length=1)
    url: HttpUrl
    type: Literal["absolute", "smart"]
    appContext: str | None = None
    autolaunchable: bool | None = None

    @model_validator(mode="after")
    def app_context_only_for_smart(self) -> Link:
        """appContext belongs to smart links only."""
        if self.appContext is not None and self.type != "smart":
            raise ValueError("appContext is only allowed on smart links")
        return self


class OverrideReasonOption(Outgoing):
    """An override reason offered on a card (a Coding with a display)."""

    code: str
    system: str
    display: str = Field(min_length=1)


class Card(Outgoing):
    """A CDS Hooks card."""

    uuid: UUID
    summary: str = Field(min_length=1, max_length=139)
    detail: str | None = None
    indicator: Indicator
    source: Source
    suggestions: list[Suggestion] | None = Field(default=None, min_length=1)
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[OverrideReasonOption] | None = Field(default=None, min_length=1)
    links: list[Link] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def selection_behavior_with_suggestions(self) -> Card:
        """selectionBehavior is required when suggestions are present."""
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("selectionBehavior is required with suggestions")
        return self
