"""Reading an EHR's answer as it arrives, within a deadline and a size cap.

Requests' read timeout starts again with every byte, so an EHR that drips its answer, or sends
far more than any FHIR read, discovery document, key set or token answer needs, would hold a
request thread and its memory; the SMART client reads every body through `read_within` instead
(the CDS fetcher's `read_before` sets the socket's timeout to the time left before each read),
and Authlib's token requests through `bound_answers`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urljoin

import requests

from cds_hooks.fhir_fetch import BodyCut, FetchFailed, read_capped

MAX_REDIRECTS = 3  # a discovery document or key set moved once or twice is followed; no more


@contextmanager
def open_stream(
    http: requests.Session, url: str, *, redirects: int = MAX_REDIRECTS, **options: Any
) -> Iterator[requests.Response]:
    """GET a URL, leaving its body for read_within; the connection is closed afterwards.

    At most `redirects` redirects are followed, and their bodies are never read (requests would
    read each in full, with no deadline or cap, for up to 30 hops); past them the last redirect
    is the answer, which the callers treat as no document.
    """
    response = http.get(url, stream=True, allow_redirects=False, **options)
    for _ in range(redirects):
        if not response.is_redirect:
            break
        response.close()
        url = urljoin(url, response.headers["Location"])
        response = http.get(url, stream=True, allow_redirects=False, **options)
    with response:
        yield response


def read_within(response: requests.Response, deadline: float, limit: int) -> bytes:
    """A streamed response's body; ValueError past the (monotonic) deadline or `limit` bytes.

    The body is read as it arrives, so neither an EHR that drips its answer nor one that sends
    too much holds a request thread or its memory.
    """
    try:
        return read_capped(response, deadline, limit)
    except FetchFailed:  # the deadline passed between two reads
        raise ValueError("the response did not arrive in time") from None
    except BodyCut as cut:
        if cut.timed_out:
            raise ValueError("the response did not arrive in time") from None
        raise ValueError("the response was cut off") from None


class AnswerUnread(requests.RequestException):
    """An answer not read whole within its deadline and size cap."""


def bound_answers(session: requests.Session, seconds: float, limit: int) -> None:
    """Have the session read each answer whole within `seconds` of sending it, up to `limit` bytes.

    For a session another library sends with (Authlib's token requests): each answer is read as
    it arrives, and one that drips past the deadline or is too long raises AnswerUnread, a
    RequestException like any other failed exchange.
    """
    session.stream = True
    session.max_redirects = MAX_REDIRECTS
    session.hooks["response"].append(functools.partial(read_answer, seconds=seconds, limit=limit))


def read_answer(
    response: requests.Response, *_args: Any, seconds: float, limit: int, **_kwargs: Any
) -> requests.Response:
    """A response hook: read the body within what is left of `seconds` since sending."""
    deadline = time.monotonic() + seconds - response.elapsed.total_seconds()
    try:
        response._content = read_within(response, deadline, limit)
    except ValueError as error:
        response.close()
        raise AnswerUnread(str(error)) from None
    return response
