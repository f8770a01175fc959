"""The emulator's in-memory state: used invoice numbers, OTP processes, checkout sessions.

Every read-modify-write runs under one lock, so concurrent requests (and the server's
threads) cannot both claim an invoice number or both decide a checkout.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from payhub_plutu.sandbox._scenarios import Scenario

__all__ = ["CheckoutSession", "Process", "SandboxState"]

ProcessStatus = Literal["verified", "confirmed", "failed", "expired"]
SessionStatus = Literal["pending", "approved", "declined", "canceled"]


@dataclass
class Process:
    """A Sadad/Adfali payment between verify (OTP sent) and confirm."""

    process_id: str
    service: str
    mobile: str
    amount: Decimal
    created: float
    status: ProcessStatus = "verified"
    wrong_codes: int = 0
    invoice_no: str | None = None
    transaction_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "otp",
            "service": self.service,
            "process_id": self.process_id,
            "status": self.status,
            "amount": f"{self.amount:.2f}",
            "invoice_no": self.invoice_no,
            "transaction_id": self.transaction_id,
        }


@dataclass
class CheckoutSession:
    """A LBC/MPGS/T-Lync payment between confirm and the customer's decision."""

    session_id: str
    token: str
    service: str
    invoice_no: str
    amount: Decimal
    currency: str
    return_url: str
    lang: str
    transaction_id: int
    scenario: Scenario | None
    callback_url: str | None = None
    mobile: str | None = None
    status: SessionStatus = "pending"
    payment_method: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "checkout",
            "service": self.service,
            "session_id": self.session_id,
            "status": self.status,
            "amount": f"{self.amount:.2f}",
            "currency": self.currency,
            "invoice_no": self.invoice_no,
            "transaction_id": self.transaction_id,
            "scenario": None if self.scenario is None else self.scenario.name,
        }


@dataclass
class SandboxState:
    clock: Callable[[], float]
    invoices: dict[str, str] = field(default_factory=dict)  # invoice_no -> service
    processes: dict[str, Process] = field(default_factory=dict)
    sessions: dict[str, CheckoutSession] = field(default_factory=dict)
    _next_transaction: int = 100901
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield

    # The helpers below expect the lock to be held by the caller.

    def transaction_id(self) -> int:
        value = self._next_transaction
        self._next_transaction += 1
        return value

    def claim_invoice(self, invoice_no: str, service: str) -> bool:
        """Use up ``invoice_no``; False when it was used before (on any service: one
        merchant account)."""
        if invoice_no in self.invoices:
            return False
        self.invoices[invoice_no] = service
        return True

    def new_process(self, service: str, mobile: str, amount: Decimal) -> Process:
        while True:
            process_id = str(10**12 + secrets.randbelow(9 * 10**12))  # 13 digits
            if process_id not in self.processes:
                break
        process = Process(process_id, service, mobile, amount, created=self.clock())
        self.processes[process_id] = process
        return process

    def new_session(self, **fields: Any) -> CheckoutSession:
        session = CheckoutSession(
            session_id=secrets.token_hex(8),
            token=secrets.token_urlsafe(24),
            transaction_id=self.transaction_id(),
            **fields,
        )
        self.sessions[session.session_id] = session
        return session

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [process.to_json() for process in self.processes.values()] + [
                session.to_json() for session in self.sessions.values()
            ]
