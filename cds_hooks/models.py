"""CDS Hooks 2.0 wire models: requests and feedback in, cards out (optional fields omitted)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    field_validator,
    model_validator,
    with_config,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only from Python 3.12

from app.fhir_json import parse_time
from cds_hooks.services import PREFETCH

Indicator = Literal["info", "warning", "critical"]
# A required string with something in it: incoming strings are stripped, so a blank one is refused
# (the pattern says so in the OpenAPI document too).
NonBlank = Annotated[str, Field(min_length=1, pattern=r"\S")]
# Text stored from feedback (a code, a system, a time): no control characters (PostgreSQL
# stores no NUL)
PlainText = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]*$")]
# A search for requests may also return the Medications they reference (`_include`): matching
# reads a MedicationRequest's medicationReference from them.
RETURNED_ALONGSIDE = {"MedicationRequest": ("Medication",)}


def json_object(name: str, members: dict[str, Any]) -> type:
    """A JSON object with these typed members; any other member is accepted unchecked."""
    return with_config(ConfigDict(extra="allow"))(TypedDict(name, members))


def resource_of(name: str, resource_types: tuple[str, ...], **members: Any) -> type:
    """A FHIR resource whose resourceType is one of these."""
    return json_object(name, {"resourceType": Literal[resource_types], **members})


def prefetch_result(template: str) -> Any:
    """What a prefetch key may hold: its template's result, an OperationOutcome, or null (no data).

    Only the shape is checked (resource types, Bundle entries): the rest is read leniently.
    """
    query, _, search = template.partition("?")
    resource_type = query.split("/")[0]
    if not search:
        shape = resource_of(f"Prefetched{resource_type}", (resource_type, "OperationOutcome"))
        return nullable(shape, f"a {resource_type}, an OperationOutcome or null")
    returned = (resource_type, *RETURNED_ALONGSIDE.get(resource_type, ()), "OperationOutcome")
    match = resource_of(f"{resource_type}SearchMatch", returned)
    entry = json_object(f"{resource_type}SearchEntry", {"resource": NotRequired[match]})
    bundle = resource_of(
        f"{resource_type}SearchResult",
        ("Bundle", "OperationOutcome"),
        entry=NotRequired[list[entry]],
    )
    return nullable(bundle, f"a Bundle of {resource_type}, an OperationOutcome or null")


def nullable(shape: type, expected: str) -> Any:
    """The shape or null, refusing any other JSON value with a sentence saying what was expected."""

    def must_be_an_object(value: object) -> object:
        """Pass an object or null on to the shape; refuse any other JSON value."""
        if value is not None and not isinstance(value, dict):
            raise PydanticCustomError(
                "prefetch_type", "Input should be {expected}", {"expected": expected}
            )
        return value

    return Annotated[shape | None, BeforeValidator(must_be_an_object)]


# The prefetch keys Bedside asks for, each checked against its template; other keys pass unread.
Prefetch = json_object(
    "Prefetch", {key: NotRequired[prefetch_result(template)] for key, template in PREFETCH.items()}
)


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
    prefetch: Prefetch | None = None

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
