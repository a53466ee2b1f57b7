"""Reading an EHR's answer as it arrives, within a deadline and a size cap.

Requests' read timeout starts again with every byte, so an EHR that drips its answer, or sends
far more than any FHIR read, discovery document or key set needs, would hold a request thread
and its memory; the SMART client reads every body through `read_within` instead (the CDS
fetcher's `read_before` sets the socket's timeout to the time left before each read).
"""

from __future__ import annotations

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
