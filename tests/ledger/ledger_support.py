"""Real parts for the ledger tests: a PostgreSQL server of their own, a sandbox that
counts the requests each emulator receives, and hub configurations pointing at both."""

from __future__ import annotations

import collections
import contextlib
import glob
import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from payhub_core import Invoice, Money
from payhub_core.demo import DemoEnvironment, ScriptedBrowser
from payhub_core.sandbox import Emulator, load_emulators

PG_USER = "payhub"


def postgres_bin() -> Path | None:
    """The newest local PostgreSQL's bin directory (Debian layout), if any."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


# A port below the kernel's ephemeral range (32768-60999 on Linux): no socket another
# process binds to port 0, and no outgoing connection, is ever handed one of these.
_PORTS = range(20000, 32000)
_PORT_TAKEN = ("Address already in use", "could not create any TCP/IP sockets")
_START_ATTEMPTS = 8
_RESTART_WINDOW = 15.0


class PostgresStartError(RuntimeError):
    """The test PostgreSQL server did not start; the message carries pg_ctl's output and
    the server log of that attempt."""


def _probe_port() -> int:
    """A random port in ``_PORTS`` that nothing listens on right now (a hint only:
    another process may still take it before the server binds it, see ``start``)."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.choice(_PORTS)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise PostgresStartError(f"no free loopback port in {_PORTS.start}-{_PORTS.stop - 1}")


class PostgresServer:
    """``initdb`` + ``pg_ctl`` in a temporary folder, on a loopback port of its own.

    The port is picked before the server binds it, so another process can take it in
    between: ``start`` recognises that failure in the server log and starts again on a
    new port (first start) or waits for the port to come free (a restart after ``stop``:
    clients already hold the URL). The unix socket lives in the server's own folder.
    Any other startup failure raises ``PostgresStartError`` with the log.

    initdb refuses to run as root, so as root the server runs as the unprivileged
    ``postgres`` user (Debian's package creates it)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="payhub-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "log"
        self.port = 0  # chosen by the first start
        self._as: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        subprocess.run(  # noqa: S603 - our own postgres binaries
            [*self._as, *command], check=True, capture_output=True, cwd=self.root, timeout=120
        )

    def _log_since(self, offset: int) -> str:
        try:
            with self.log.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def _attempt(self) -> tuple[bool, str]:
        """One ``pg_ctl start`` on ``self.port``: ``(started, what it said)``."""
        offset = self.log.stat().st_size if self.log.exists() else 0
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=300"
        )
        command = [
            *self._as,
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.log),
            "-w",
            "-t",
            "90",
            "start",
        ]
        done = subprocess.run(  # noqa: S603 - our own postgres binaries
            command, capture_output=True, cwd=self.root, timeout=150, check=False
        )
        said = (
            f"pg_ctl exit {done.returncode}\n{done.stdout.decode(errors='replace')}"
            f"{done.stderr.decode(errors='replace')}\n--- server log ---\n"
            f"{self._log_since(offset)}"
        )
        return done.returncode == 0, said

    def start(self) -> PostgresServer:
        if not self.data.exists():
            self._run(
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                PG_USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            )
        restart = self.port != 0
        deadline = time.monotonic() + _RESTART_WINDOW
        attempts = 0
        while True:
            if not restart:
                self.port = _probe_port()
            attempts += 1
            started, said = self._attempt()
            if started:
                return self
            taken = any(sign in said for sign in _PORT_TAKEN)
            if not taken:
                raise PostgresStartError(f"PostgreSQL did not start on port {self.port}:\n{said}")
            if restart and time.monotonic() >= deadline:
                raise PostgresStartError(
                    f"PostgreSQL could not start again: port {self.port} stayed taken for "
                    f"{_RESTART_WINDOW:.0f} s:\n{said}"
                )
            if not restart and attempts >= _START_ATTEMPTS:
                raise PostgresStartError(
                    f"PostgreSQL found its port taken {attempts} times in a row:\n{said}"
                )
            time.sleep(0.2)

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={PG_USER} dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        if self.data.exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class Counter:
    """Counts every HTTP request each wrapped emulator receives, by method and path.

    ``lose_answers`` holds path parts whose requests the emulator handles as usual but
    whose answers are replaced by an HTTP 502: the gateway acted, the caller cannot know.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.hits: collections.Counter[tuple[str, str]] = collections.Counter()
        self.lose_answers: set[str] = set()

    def count(self, method: str, suffix: str) -> int:
        with self._lock:
            return sum(
                n for (m, path), n in self.hits.items() if m == method and path.endswith(suffix)
            )

    def wrap(self, emulator: Emulator) -> Emulator:
        def create_app(base_url: str) -> Any:
            app = emulator.create_app(base_url)

            async def counted(scope: Any, receive: Any, send: Any) -> None:
                if scope["type"] == "http":
                    with self._lock:
                        self.hits[(scope["method"], scope["path"])] += 1
                    if any(lost in scope["path"] for lost in self.lose_answers):
                        await app(scope, receive, _swallow)
                        await send({"type": "http.response.start", "status": 502, "headers": []})
                        await send({"type": "http.response.body", "body": b"bad gateway"})
                        return
                await app(scope, receive, send)

            return counted

        return Emulator(
            name=emulator.name,
            create_app=create_app,
            demo_cases=emulator.demo_cases,
            description=emulator.description,
        )


async def _swallow(message: Any) -> None:
    return None


PLURAL_CREATE = "/api/checkout/v1/orders"
PLURAL_CAPTURE = "/capture"
PLUTU_CONFIRM = "/localbankcards/confirm"


class Sandbox:
    """The payhub sandbox (Plural and Plutu emulators, counted) and the demo merchant
    that records returns and webhooks, on one loopback port."""

    def __init__(self) -> None:
        self.counter = Counter()
        self.env = DemoEnvironment([self.counter.wrap(e) for e in load_emulators()])

    def __enter__(self) -> Sandbox:
        self.env.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.env.__exit__(*exc_info)

    @property
    def url(self) -> str:
        return self.env.url

    def gateways(self) -> dict[str, Any]:
        from payhub_plural.sandbox import sandbox_settings as plural_settings
        from payhub_plutu.sandbox import sandbox_settings as plutu_settings

        return {
            "india": {"adapter": "plural.checkout", **plural_settings(f"{self.url}/plural")},
            "seamless": {"adapter": "plural.seamless", **plural_settings(f"{self.url}/plural")},
            "cards": {"adapter": "plutu.localbankcards", **plutu_settings(f"{self.url}/plutu")},
        }

    def config(self, ledger_url: str, **ledger: Any) -> dict[str, Any]:
        return {
            "default": "india",
            "gateways": self.gateways(),
            "ledger": {"url": ledger_url, **ledger},
        }

    def invoice(
        self,
        prefix: str = "INV-",
        *,
        amount: str = "1499.00",
        currency: str = "INR",
        manual: bool = False,
    ) -> Invoice:
        number = f"{prefix}{uuid.uuid4().hex[:10]}"
        merchant = self.env.merchant_url
        return Invoice(
            number=number,
            amount=Money(amount, currency),
            return_url=f"{merchant}/return/{number}",
            callback_url=f"{merchant}/callback/{number}",
            capture="manual" if manual else "automatic",
        )

    def approve(self, url: str) -> None:
        browser = ScriptedBrowser(self.env.merchant_url)
        try:
            browser.press(url, "approve")
        finally:
            browser.close()

    def arrivals(
        self, kind: str, match: Callable[[Any], bool], count: int = 1, timeout: float = 15
    ) -> list[Any]:
        receiver = self.env.receiver

        def found() -> list[Any]:
            return [a for a in receiver.arrivals if a.kind == kind and match(a)]

        deadline = time.monotonic() + timeout
        while len(found()) < count and time.monotonic() < deadline:
            receiver.wait_for(lambda a: False, timeout=0.05)
        return found()


def webhook_for(invoice: Invoice) -> Callable[[Any], bool]:
    return lambda arrival: invoice.number.encode() in arrival.callback.body


def return_for(invoice: Invoice) -> Callable[[Any], bool]:
    return lambda arrival: arrival.key == invoice.number


def wait_until(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
