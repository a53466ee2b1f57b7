"""Response bodies read with a size cap: a server never makes Bedside hold more than it expects.

The request must be made with `stream=True`; the body is then read chunk by chunk and reading
stops one chunk past the cap, so an endless or huge answer costs at most `limit` bytes of memory.
"""

from __future__ import annotations

import json

import requests

CHUNK_BYTES = 64 * 1024


class BodyTooLarge(ValueError):
    """The response body is larger than the caller accepts."""


def bounded_body(response: requests.Response, limit: int) -> bytes:
    """Return the whole body; BodyTooLarge past `limit` bytes, ValueError when it is cut off."""
    body = bytearray()
    try:
        for chunk in response.iter_content(CHUNK_BYTES):
            body += chunk
            if len(body) > limit:
                raise BodyTooLarge(f"the response is larger than {limit} bytes")
    except requests.RequestException as error:
        raise ValueError("the response was cut off") from error
    return bytes(body)


def bounded_json(response: requests.Response, limit: int) -> object:
    """Parse a bounded body as JSON; BodyTooLarge, or ValueError when it is not JSON."""
    body = bounded_body(response, limit)
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError("the response is not JSON") from error
