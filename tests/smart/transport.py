"""A requests transport that hands requests to a WSGI app in-process (records what it saw)."""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPResponse
from werkzeug.test import Client

Rewrite = Callable[[requests.PreparedRequest, requests.Response], None]


class WsgiAdapter(BaseAdapter):
    """Serve requests from a WSGI app without sockets; keep every request and response."""

    def __init__(self, wsgi_app):
        super().__init__()
        self.wsgi_app = wsgi_app
        self.sent: list[requests.PreparedRequest] = []
        self.received: list[requests.Response] = []
        self.rewrites: list[Rewrite] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        """Run the request through the app and wrap its answer as a requests.Response."""
        self.sent.append(request)
        parts = urlsplit(request.url)
        body = request.body.encode() if isinstance(request.body, str) else request.body
        result = Client(self.wsgi_app).open(
            path=parts.path,
            query_string=parts.query,
            method=request.method,
            headers=list(request.headers.items()),
            data=body or b"",
            base_url=f"{parts.scheme}://{parts.netloc}",
        )
        response = requests.Response()
        response.status_code = result.status_code
        response.reason = result.status.partition(" ")[2]
        response.headers = CaseInsensitiveDict(dict(result.headers.items()))
        response._content = result.get_data()
        response.url = request.url
        response.request = request
        result.close()
        for rewrite in self.rewrites:
            rewrite(request, response)
        # a raw stream too, as a socket's adapter gives, for callers that read with stream=True
        response.raw = HTTPResponse(io.BytesIO(response.content), preload_content=False)
        self.received.append(response)
        return response

    def close(self) -> None:
        """Nothing to release."""

    def requests_to(self, path: str) -> list[requests.PreparedRequest]:
        """The recorded requests whose path is `path`."""
        return [request for request in self.sent if urlsplit(request.url).path == path]

    def responses_from(self, path: str) -> list[requests.Response]:
        """The recorded responses for requests whose path is `path`."""
        return [response for response in self.received if urlsplit(response.url).path == path]
