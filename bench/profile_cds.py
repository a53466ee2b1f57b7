"""Profile one server-side order-select call in process (Flask test client + cProfile).

    .venv/bin/python -m bench.profile_cds [--calls 300] [--library-size 0] [--sort tottime]

Same request, JWT and settings as the benchmark; prints where the server's time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import tempfile
import time
from pathlib import Path

from app import create_app
from app.settings import REPO_ROOT
from bench import cds_request as req
from bench.synthetic_library import build_library

AUDIENCE_BASE = "http://localhost"


def build_app(workdir: Path, key, library_size: int):
    """The app as the benchmark's server configures it, in this process."""
    clients = workdir / "cds-clients.json"
    clients.write_text(json.dumps(req.clients_document([key])), encoding="utf-8")
    content = REPO_ROOT / "content"
    if library_size:
        content = workdir / "library"
        build_library(REPO_ROOT / "content", content, library_size)
    config = {
        "DATABASE": str(workdir / "profile.db"),
        "SECRET_KEY": "profile",
        "CDS_CLIENTS": str(clients),
        "CDS_FLOOR_ENDPOINT": True,
        "CDS_REPEAT_MINUTES": 0,
        "CONTENT_DIR": str(content),
        "LOG_LEVEL": "WARNING",
    }
    return create_app(config, instance_path=workdir)


def prepare(key, bodies: req.BodyFactory, path: str, count: int) -> list[tuple[str, bytes]]:
    """count (fresh JWT, body) pairs for path."""
    tokens = req.sign_tokens(key, AUDIENCE_BASE + path, count)
    return list(zip(tokens, bodies.bodies(count), strict=True))


def calls(client, path: str, prepared: list[tuple[str, bytes]]) -> float:
    """Make the prepared calls; return the mean seconds per call."""
    started = time.perf_counter()
    for token, body in prepared:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        response = client.post(path, data=body, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return (time.perf_counter() - started) / len(prepared)


def main(argv: list[str] | None = None) -> int:
    """Time floor and real calls in process, then profile the real ones."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile_cds", description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--library-size", type=int, default=0)
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumulative"))
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--alg", choices=req.ALGORITHMS, default="ES384")
    args = parser.parse_args(argv)
    key = req.make_key(args.alg)
    bodies = req.BodyFactory(req.patient_prefetch())
    with tempfile.TemporaryDirectory(prefix="bedside-profile-") as directory:
        client = build_app(Path(directory), key, args.library_size).test_client()
        real, floor = req.SERVICE_PATH, req.FLOOR_PATH
        calls(client, real, prepare(key, bodies, real, 20))  # warm up
        floor_mean = calls(client, floor, prepare(key, bodies, floor, args.calls))
        real_mean = calls(client, real, prepare(key, bodies, real, args.calls))
        print(f"in-process mean: floor {floor_mean * 1000:.2f} ms, real {real_mean * 1000:.2f} ms")
        prepared = prepare(key, bodies, real, args.calls)
        profiler = cProfile.Profile()
        profiler.enable()
        calls(client, real, prepared)
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
