"""The sandbox server: every installed emulator on one local port.

The sandbox has no authentication: whoever reaches it can set webhook targets and signing
secrets, reset it and list its transactions. So it listens on loopback only unless told
otherwise (``allow_remote=True``, ``payhub sandbox --allow-remote``), and its emulators
notify loopback hosts only unless told otherwise (``notify_hosts``; see
:mod:`payhub_core.sandbox._notify`).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

from payhub_core._errors import ConfigurationError
from payhub_core.sandbox._emulator import ASGIApp, Emulator, Message, Scope
from payhub_core.sandbox._notify import current_notify_hosts, is_loopback

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "SANDBOX_GROUP",
    "SandboxServer",
    "build_app",
    "load_emulators",
    "require_sandbox_extra",
]

SANDBOX_GROUP = "payhub.sandboxes"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8808


def require_sandbox_extra() -> None:
    """Raise ``ConfigurationError`` saying what to install when the ``sandbox`` extra's
    libraries (Starlette, uvicorn) are missing."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as error:
        raise ConfigurationError(
            f"the sandbox needs the 'sandbox' extra ({error.name or 'a library'} is not "
            "installed): pip install 'payhub-core[sandbox]'"
        ) from None


def load_emulators() -> list[Emulator]:
    """Every emulator installed under ``payhub.sandboxes``; a broken one is skipped with a
    warning on the ``payhub`` logger."""
    import logging

    from stevedore import ExtensionManager

    log = logging.getLogger("payhub")

    def on_failure(_manager: Any, entry_point: Any, error: BaseException) -> None:
        log.warning("sandbox emulator %r failed to load: %s", entry_point.name, error)

    manager: ExtensionManager[Any] = ExtensionManager(
        SANDBOX_GROUP, on_load_failure_callback=on_failure
    )
    emulators: list[Emulator] = []
    for extension in sorted(manager.extensions, key=lambda ext: ext.name):
        plugin: object = extension.plugin
        if isinstance(plugin, Emulator):
            emulators.append(plugin)
        else:
            log.warning("sandbox entry point %r is not an Emulator", extension.name)
    return emulators


def build_app(emulators: Sequence[Emulator], base_url: str) -> ASGIApp:
    """One ASGI app mounting each emulator at ``/<name>``; ``GET /`` lists them."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    base_url = base_url.rstrip("/")

    async def index(_request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "payhub_sandbox": True,
                "emulators": {
                    emulator.name: {
                        "url": f"{base_url}/{emulator.name}",
                        "info": f"{base_url}/{emulator.name}/_sandbox",
                        "description": emulator.description,
                    }
                    for emulator in emulators
                },
            }
        )

    routes: list[Any] = [Route("/", index)]
    routes += [
        Mount(f"/{emulator.name}", app=emulator.create_app(f"{base_url}/{emulator.name}"))
        for emulator in emulators
    ]
    app: ASGIApp = Starlette(routes=routes)
    return app


class SandboxServer:
    """Serve the emulators with uvicorn in a background thread (demo, tests, CLI).

    ``port=0`` picks a free port. Use as a context manager; ``url`` is where it listens.

    ``host`` must be a loopback address (or ``localhost``) unless ``allow_remote`` is
    true: the sandbox has no authentication. ``notify_hosts`` are the hosts besides
    loopback its emulators may send callbacks and webhooks to (``"*"``: any).
    """

    def __init__(
        self,
        emulators: Sequence[Emulator] | None = None,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        allow_remote: bool = False,
        notify_hosts: Collection[str] = (),
    ) -> None:
        if not is_loopback(host) and not allow_remote:
            raise ConfigurationError(
                f"the sandbox will not listen on {host!r}, which is not a loopback address: "
                "it has no authentication, so anyone who reaches it could change its webhook "
                "targets and signing secret and list its transactions; allow it explicitly "
                "(payhub sandbox --allow-remote, SandboxServer(allow_remote=True))"
            )
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigurationError(f"the sandbox port must be 0-65535, not {port!r}")
        require_sandbox_extra()
        self.emulators = list(load_emulators() if emulators is None else emulators)
        self.notify_hosts = frozenset(notify_hosts)
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except (OSError, ValueError, UnicodeError) as error:
            self._socket.close()
            reason = getattr(error, "strerror", None) or type(error).__name__
            raise ConfigurationError(f"cannot listen on {host}:{port}: {reason}") from None
        bound_port = self._socket.getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown_host}:{bound_port}"
        self.app = self._with_notify_policy(build_app(self.emulators, self.url))
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def _with_notify_policy(self, app: ASGIApp) -> ASGIApp:
        """``app`` with this server's ``notify_hosts`` in effect while it serves a request
        (what the emulators' notifiers read when they send)."""
        notify_hosts = self.notify_hosts

        async def serve(
            scope: Scope,
            receive: Callable[[], Awaitable[Message]],
            send: Callable[[Message], Awaitable[None]],
        ) -> None:
            token = current_notify_hosts.set(notify_hosts)
            try:
                await app(scope, receive, send)
            finally:
                current_notify_hosts.reset(token)

        return serve

    def start(self) -> SandboxServer:
        import uvicorn

        config = uvicorn.Config(self.app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise ConfigurationError("the sandbox server did not start")
            time.sleep(0.01)
        return self

    def serve_forever(self, *, access_log: bool = True) -> None:
        """Serve in the calling thread until interrupted (``payhub sandbox``); with
        ``access_log``, one line per request on stdout."""
        import uvicorn

        config = uvicorn.Config(self.app, log_level="info", lifespan="off", access_log=access_log)
        uvicorn.Server(config).run(sockets=[self._socket])

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
