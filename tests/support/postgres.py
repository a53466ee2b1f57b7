"""A real PostgreSQL server for the tests: Debian's binaries, a temporary cluster, loopback only."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

from tests.support.serve import free_port

SUPERUSER = "postgres"
UNPRIVILEGED_USER = "postgres"  # created by Debian's `postgresql` package
START_SECONDS = 20
INSTALL_HINT = "apt-get install postgresql"
DEBIAN_VERSIONS = Path("/usr/lib/postgresql")  # one folder per major version: 15/bin, 16/bin
# Durability stays on: the multi-host tests kill hosts (and the server) mid-write and check that
# nothing acknowledged is lost, which only means something with fsync and synchronous commits on.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "max_connections": "200",
}
# Trust, but only on the Unix socket and 127.0.0.1: nothing else can reach the cluster.
HBA_RULES = """\
local all all trust
host all all 127.0.0.1/32 trust
"""


class PostgresUnavailable(Exception):
    """The server binaries (or the user to run them as) are missing; the message says which."""


class PostgresServer:
    """`initdb` + `pg_ctl start` in a temporary directory; a context manager that removes it all."""

    def __init__(self, bindir: Path | None = None):
        self.bindir = bindir or find_bindir()
        self.run_as = unprivileged_user()
        self.port: int | None = None
        self.directory: Path | None = None

    @property
    def data_directory(self) -> Path:
        """The cluster's data directory."""
        return self.directory / "data"

    @property
    def log_file(self) -> Path:
        """The server's log (read it when a start fails)."""
        return self.directory / "server.log"

    def __enter__(self) -> PostgresServer:
        """Create the cluster and start the server on a free loopback port."""
        self.directory = make_directory(self.run_as)
        try:
            self._initdb()
            self.port = free_port()
            self.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop the server (fast shutdown) and remove its directory."""
        if self.directory is None:
            return
        if (self.data_directory / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "fast", check=False)
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None

    def url(self, database: str) -> str:
        """The SQLAlchemy/psycopg URL of one database, as the superuser over TCP."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database (a copy of template0) and return its URL."""
        self._execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing any connection a test left open."""
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        self._execute(statement.format(sql.Identifier(name)))

    def start(self) -> None:
        """Start the server and wait until it accepts connections (bounded)."""
        options = f"-p {self.port} -k {self.directory}" + "".join(
            f" -c {name}={value}" for name, value in SERVER_SETTINGS.items()
        )
        self._pg_ctl("start", "-t", str(START_SECONDS), "-l", str(self.log_file), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; mode "immediate" is a crash (no checkpoint, WAL replay on start)."""
        self._pg_ctl("stop", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        """Stop and start again on the same port, e.g. to check that committed writes survive."""
        self.stop(mode)
        self.start()

    def _initdb(self) -> None:
        """Create the cluster (UTF-8, C locale) with trust only on the socket and loopback."""
        # --no-sync skips only initdb's final flush of the template files (seconds on a busy disk);
        # the server itself still fsyncs its WAL and checkpoints, and the tests kill processes, not
        # the machine, so nothing the durability tests rely on depends on that flush.
        self._run(
            self.bindir / "initdb",
            *("-D", str(self.data_directory), "-U", SUPERUSER, "-A", "trust"),
            *("-E", "UTF8", "--locale=C", "--no-sync"),
        )
        (self.data_directory / "pg_hba.conf").write_text(HBA_RULES, encoding="utf-8")

    def _pg_ctl(self, action: str, *arguments: str, check: bool = True) -> None:
        """Run `pg_ctl <action> -w` on this cluster."""
        self._run(
            self.bindir / "pg_ctl",
            *(action, "-w", "-D", str(self.data_directory), *arguments),
            check=check,
        )

    def _run(self, program: Path, *arguments: str, check: bool = True) -> None:
        """Run a server program (as the unprivileged user under root); fail with its output."""
        command = [str(program), *arguments]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        done = subprocess.run(
            command, cwd=self.directory, capture_output=True, text=True, check=False
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"{program.name} {arguments[0]} failed: {done.stderr.strip()[-1000:]}"
                f"{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        """The end of the server log, when there is one, to explain a failed start."""
        if not self.log_file.exists():
            return ""
        return "\nserver log: " + self.log_file.read_text(errors="replace")[-1500:]

    def _execute(self, statement: sql.Composable) -> None:
        """Run one statement outside a transaction in the maintenance database."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(statement)


def find_bindir(versions_root: Path = DEBIAN_VERSIONS) -> Path:
    """Where initdb and pg_ctl live: `pg_config --bindir`, else the newest Debian version."""
    candidates = []
    if shutil.which("pg_config"):
        done = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False
        )
        candidates.append(Path(done.stdout.strip()))
    versions = [path for path in versions_root.glob("*/bin") if path.parent.name.isdigit()]
    candidates += sorted(versions, key=lambda path: int(path.parent.name), reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise PostgresUnavailable(f"PostgreSQL's server binaries are not installed ({INSTALL_HINT})")


def unprivileged_user() -> str | None:
    """The user to run the server as under root (PostgreSQL refuses root); None otherwise."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root needs the `{UNPRIVILEGED_USER}` user ({INSTALL_HINT} creates it)"
        ) from None
    return UNPRIVILEGED_USER


def make_directory(owner: str | None) -> Path:
    """A private temporary directory; under root, in /tmp (reachable) and owned by `owner`."""
    parent = "/tmp" if owner is not None else None  # TMPDIR may sit under /root
    directory = Path(tempfile.mkdtemp(prefix="bedside-postgres-", dir=parent))
    if owner is not None:
        shutil.chown(directory, user=owner)
    return directory
