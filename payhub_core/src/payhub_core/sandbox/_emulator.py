"""What an adapter distribution contributes to the sandbox (entry point group
``payhub.sandboxes``): an emulator of its gateway, and demo cases that walk each of its
adapters through a whole payment life."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from payhub_core._models import Invoice, Operation

__all__ = ["ASGIApp", "DemoCase", "Emulator"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


@dataclass(frozen=True)
class DemoCase:
    """One walk through a payment's life for ``payhub demo`` and the end-to-end tests.

    ``settings`` configure the adapter against the running emulator. ``invoice`` builds the
    invoice from ``(number, return_url, callback_url)``, which point at the demo's local
    receiver. The customer approves with ``otp_code`` (OTP wallets) or by pressing
    **Approve** on the emulator's checkout page. ``evidence`` says which arrival is
    verified: the browser ``return``, a server-to-server ``callback`` or a ``webhook``.
    ``after_verify`` lists the operations run after a verified result, in order.
    """

    adapter: str
    title: str
    settings: Mapping[str, Any]
    invoice: Callable[[str, str, str], Invoice]
    otp_code: str | None = None
    evidence: Literal["return", "callback", "webhook"] = "return"
    after_verify: tuple[Operation, ...] = ()
    expected_status: str = "paid"


@dataclass(frozen=True)
class Emulator:
    """A gateway emulator mounted at ``/<name>`` on the sandbox server.

    ``create_app(base_url)`` returns its ASGI app; ``base_url`` is the public URL of the
    mount (``http://127.0.0.1:8808/plutu``), for links and redirects it writes.

    Conventions every emulator follows:

    - ``GET /_sandbox`` answers JSON with the test credentials, any fixed OTP codes and the
      scenarios a developer can trigger on purpose;
    - an emulator that sends webhooks takes their target with ``PUT /_sandbox/config``
      ``{"webhook_url": "..."}`` (the demo points it at its merchant); others may answer 404;
    - the app keeps its state on ``app.state.emulator`` for tests and tools.

    ``demo_cases(base_url)`` lists the demo walks for its adapters.
    """

    name: str
    create_app: Callable[[str], ASGIApp]
    demo_cases: Callable[[str], Sequence[DemoCase]] = field(default=lambda base_url: ())
    description: str = ""
