"""Run Bedside under gunicorn, configured in code (no config file to keep in sync)."""

from __future__ import annotations

import gc
import logging

from flask import Flask
from gunicorn.app.base import BaseApplication

from app import create_app
from app.db import close_stores
from app.redaction import RedactingFilter

# The path without the query string: OAuth codes and states never reach the access log.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


class BedsideGunicorn(BaseApplication):
    """A gunicorn application whose workers each build Bedside with create_app()."""

    def __init__(self, options: dict[str, object]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply the options given in code."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        """Build the WSGI app in the worker, then freeze the start-up heap.

        The compiled library is long-lived: freezing it keeps full garbage collections from
        rescanning it in the middle of a request (they cost tens of ms with a large library).
        """
        app = create_app()
        gc.collect()
        gc.freeze()
        return app


def run_gunicorn(*, host: str, port: int, workers: int, threads: int = 2) -> None:
    """Serve forever on host:port with `workers` processes of `threads` threads each.

    Two threads per worker by default: a prefetched hook call is CPU-bound and more threads
    only contend for the GIL (`python -m bench cds` on two cores: with 4 threads, lower
    throughput and a p99 of 28 to 50 ms; with 2, a p99 of about 20 ms).
    """
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 30,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "post_worker_init": redact_gunicorn_logs,
        "worker_exit": close_worker_stores,
    }
    BedsideGunicorn(options).run()


def redact_gunicorn_logs(worker) -> None:
    """Put the redacting filter on gunicorn's own log handlers."""
    for name in ("gunicorn.error", "gunicorn.access"):
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(RedactingFilter())


def close_worker_stores(server, worker) -> None:
    """Close the exiting worker's database connections (its app, if it built one)."""
    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        close_stores(app)
