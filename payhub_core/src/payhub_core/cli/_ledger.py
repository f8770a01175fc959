"""The ledger's ``payhub`` subcommands: ``ledger upgrade``, ``payments``, ``reconcile``
and ``resolve``. Each reads the same configuration as the application (``--config``,
``$PAYHUB_CONFIG``, ``./payhub.toml``, the environment) and needs its ``[ledger]`` table.
Output never shows the database password or anything secret."""

from __future__ import annotations

import argparse
import getpass
import os
import shlex
from datetime import timedelta
from typing import Any

from payhub_core._errors import ConfigurationError
from payhub_core._models import PaymentStatus
from payhub_core.cli._base import CONFIG_HELP, EXIT_OK, Command, UsageError, load_config, open_hub
from payhub_core.cli._render import print_json, table
from payhub_core.ledger import Change, LedgerSettings, Payment, upgrade
from payhub_core.ledger._settings import display_url

__all__ = ["COMMANDS"]


def _settings(args: argparse.Namespace) -> LedgerSettings:
    if getattr(args, "url", None):
        return LedgerSettings.from_table({"url": args.url})
    table_ = load_config(args.config).ledger
    if table_ is None:
        raise ConfigurationError(
            "the configuration has no [ledger] table (or pass --url sqlite:///payhub.sqlite3)"
        )
    return LedgerSettings.from_table(table_)


def cmd_ledger(args: argparse.Namespace) -> int:
    settings = _settings(args)
    upgrade(settings, args.revision)
    where = display_url(settings.url.get_secret_value())
    if args.json:
        print_json({"upgraded": where, "revision": args.revision})
    else:
        print(f"ledger at {where}: schema upgraded to {args.revision}")
    return EXIT_OK


def _ledger_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["upgrade"], help="upgrade: create or migrate tables")
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument("--url", help="the database URL (instead of the configuration's)")
    parser.add_argument("--revision", default="head", help="Alembic revision (default: head)")


def _change_json(change: Change) -> dict[str, Any]:
    return {
        "id": change.id,
        "invoice_number": change.invoice_number,
        "gateway": change.gateway,
        "previous": change.previous.value if change.previous else None,
        "status": change.status.value,
        "source": change.source,
        "at": change.at.isoformat(),
        "reason": change.reason,
        "actor": change.actor,
    }


def _payment_json(payment: Payment) -> dict[str, Any]:
    return {
        "invoice_number": payment.invoice_number,
        "gateway": payment.gateway,
        "status": payment.status.value,
        "amount": str(payment.amount),
        "authorized": str(payment.authorized),
        "captured": str(payment.captured),
        "refunded": str(payment.refunded),
        "reference": payment.reference,
        "paid_twice": payment.paid_twice,
        "unknown_operation": payment.unknown_operation,
        "updated_at": payment.updated_at.isoformat(),
        "history": [_change_json(change) for change in payment.history],
    }


def _flags(payment: Payment) -> str:
    flags = []
    if payment.paid_twice:
        flags.append("PAID TWICE")
    if payment.unknown_operation:
        flags.append("unknown outcome")
    return ", ".join(flags)


def cmd_payments(args: argparse.Namespace) -> int:
    with open_hub(args.config) as hub:
        found = hub.payments(status=args.status or None)
    if args.json:
        print_json([_payment_json(payment) for payment in found])
        return EXIT_OK
    rows = [
        [
            payment.invoice_number,
            payment.gateway,
            payment.status.value,
            str(payment.amount),
            str(payment.captured),
            str(payment.refunded),
            payment.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
            _flags(payment),
        ]
        for payment in found
    ]
    headers = ["invoice", "gateway", "status", "amount", "captured", "refunded", "updated", ""]
    print(table(headers, rows) if rows else "no payments")
    return EXIT_OK


def _payments_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument(
        "--status",
        action="append",
        choices=[status.value for status in PaymentStatus],
        help="only payments in this status (repeatable)",
    )


def _age(text: str) -> timedelta:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise argparse.ArgumentTypeError("an age such as 90s, 15m, 2h or 1d") from None
    if seconds < 0:
        raise argparse.ArgumentTypeError("an age cannot be negative")
    return timedelta(seconds=seconds)


def cmd_reconcile(args: argparse.Namespace) -> int:
    with open_hub(args.config) as hub:
        report = hub.reconcile(older_than=args.older_than)
    if args.json:
        print_json(
            {
                "resolved": [_change_json(change) for change in report.resolved],
                "still_pending": list(report.still_pending),
                "needs_operator": list(report.needs_operator),
            }
        )
        return EXIT_OK
    for change in report.resolved:
        before = change.previous.value if change.previous else "new"
        print(f"resolved  {change.invoice_number}: {before} -> {change.status.value}")
    for number in report.still_pending:
        print(f"pending   {number}: the gateway still says pending")
    for number in report.needs_operator:
        # Two lines, so that both fit 100 columns: what is wrong, then what to run.
        print(f"operator  {number}: the gateway's status cannot settle it; check it, then run")
        print(f"          payhub resolve {shlex.quote(number)} --as paid|failed --reason '...'")
    if not (report.resolved or report.still_pending or report.needs_operator):
        print("nothing to reconcile")
    return EXIT_OK


def _reconcile_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument(
        "--older-than",
        type=_age,
        default=None,
        help="only payments unchanged for this long (90s, 15m, 2h, 1d; default: the "
        "[ledger] reconcile_after, 15 minutes)",
    )


def cmd_resolve(args: argparse.Namespace) -> int:
    if not args.reason.strip():
        raise UsageError("--reason must say why")
    actor = args.actor or os.environ.get("PAYHUB_OPERATOR") or getpass.getuser()
    with open_hub(args.config) as hub:
        payment = hub.resolve(args.invoice, status=args.as_, reason=args.reason, actor=actor)
    if args.json:
        print_json(_payment_json(payment))
    else:
        last = payment.history[-1]
        print(
            f"{payment.invoice_number} is {payment.status.value}: resolved by {last.actor} "
            f"at {last.at.isoformat()} ({last.reason})"
        )
    return EXIT_OK


def _resolve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("invoice", help="the invoice number")
    parser.add_argument("--as", dest="as_", required=True, choices=["paid", "failed"])
    parser.add_argument("--reason", required=True, help="why (kept in the payment's history)")
    parser.add_argument(
        "--actor", help="who resolves it (default: $PAYHUB_OPERATOR, else the OS user)"
    )
    parser.add_argument("--config", help=CONFIG_HELP)


COMMANDS: dict[str, Command] = {
    "ledger": Command(
        "manage the payment ledger's database (upgrade: create or migrate its tables)",
        cmd_ledger,
        _ledger_arguments,
    ),
    "payments": Command("list the payments the ledger holds", cmd_payments, _payments_arguments),
    "reconcile": Command(
        "settle pending and doubtful payments with the gateways; list the rest for an operator",
        cmd_reconcile,
        _reconcile_arguments,
    ),
    "resolve": Command(
        "an operator settles a payment as paid or failed (recorded with who and why)",
        cmd_resolve,
        _resolve_arguments,
    ),
}
