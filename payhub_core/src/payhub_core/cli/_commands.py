"""The ``payhub`` subcommands. Each returns an exit code; errors are payhub errors, whose
messages never carry secrets."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from payhub_core._config import HubConfig
from payhub_core._hub import Hub
from payhub_core._models import Callback, Customer, Invoice, OtpChallenge, PaymentResult, Redirect
from payhub_core._money import Money
from payhub_core._registry import available_adapters
from payhub_core.cli._render import Progress, print_json, table

__all__ = ["COMMANDS"]

EXIT_OK = 0
EXIT_FAILED = 1  # the operation ran and failed: declined, bad signature, gateway error
EXIT_USAGE = 2  # argparse's own code for bad arguments
EXIT_CONFIG = 3  # the configuration cannot be used


def _capabilities_text(info: Any) -> tuple[str, str, str]:
    caps = info.capabilities
    if caps is None:
        return ("", "", "")
    return (
        ",".join(sorted(caps.currencies)) or "any",
        ",".join(
            op
            for op in ("initiate", "verify", "capture", "cancel", "refund", "status")
            if op in caps.operations
        ),
        ",".join(sorted(caps.flows)),
    )


def cmd_adapters(args: argparse.Namespace) -> int:
    infos = available_adapters()
    if args.json:
        print_json(
            [
                {
                    "name": info.name,
                    "distribution": info.distribution,
                    "version": info.version,
                    "target": info.target,
                    "capabilities": info.capabilities.model_dump(mode="json")
                    if info.capabilities
                    else None,
                    "error": info.error,
                }
                for info in infos
            ]
        )
    elif not infos:
        print("no payhub adapters installed (pip install payhub-plutu payhub-plural)")
    else:
        rows = []
        for info in infos:
            currencies, operations, flows = _capabilities_text(info)
            rows.append(
                [info.name, f"{info.distribution} {info.version}", currencies, operations, flows]
                if info.ok
                else [
                    info.name,
                    f"{info.distribution} {info.version}",
                    "BROKEN",
                    info.error or "",
                    "",
                ]
            )
        print(table(["adapter", "distribution", "currencies", "operations", "flows"], rows))
    return EXIT_OK if all(info.ok for info in infos) else EXIT_FAILED


def _config(path: str | None) -> HubConfig:
    """The configuration from PATH, else $PAYHUB_CONFIG, else ./payhub.toml; environment
    variables (PAYHUB_<ALIAS>__<FIELD>) apply on top."""
    import os

    environ = dict(os.environ)
    if path:
        environ["PAYHUB_CONFIG"] = path
    elif not environ.get("PAYHUB_CONFIG") and Path("payhub.toml").exists():
        environ["PAYHUB_CONFIG"] = "payhub.toml"
    return HubConfig.from_env(environ)


def cmd_check(args: argparse.Namespace) -> int:
    config = _config(args.config)
    with Hub(config) as hub:  # builds every adapter and validates every setting; no network
        rows = []
        for alias in hub.gateways:
            caps = hub.capabilities(alias)
            rows.append(
                [
                    alias + (" (default)" if alias == config.default else ""),
                    config.gateways[alias].adapter,
                    ",".join(sorted(caps.currencies)) or "any",
                    ",".join(sorted(caps.operations)),
                ]
            )
    if args.json:
        print_json(
            {
                "ok": True,
                "default": config.default,
                "gateways": {row[0].split()[0]: row[1] for row in rows},
            }
        )
    else:
        print(table(["gateway", "adapter", "currencies", "operations"], rows))
        print("configuration OK")
    return EXIT_OK


def _invoice(args: argparse.Namespace) -> Invoice:
    customer = None
    if args.mobile or args.birth_year or args.email:
        customer = Customer(mobile=args.mobile, birth_year=args.birth_year, email=args.email)
    return Invoice(
        number=args.invoice,
        amount=Money(args.amount, args.currency),
        return_url=args.return_url,
        callback_url=args.callback_url,
        customer=customer,
        lang=args.lang,
        capture="manual" if args.manual_capture else "automatic",
    )


def cmd_pay(args: argparse.Namespace) -> int:
    invoice = _invoice(args)
    progress = Progress(enabled=not args.json)
    with Hub(_config(args.config)) as hub:
        progress.update(f"initiating {invoice.amount} on {args.gateway or hub.default_gateway}…")
        try:
            checkout = hub.initiate(invoice, gateway=args.gateway)
        finally:
            progress.done()
    action = checkout.action
    if args.json:
        print_json(
            {
                "gateway": checkout.gateway,
                "reference": checkout.reference,
                "status": checkout.status.value,
                "action": None
                if action is None
                else {"type": type(action).__name__, **action.model_dump(mode="json")},
            }
        )
        return EXIT_OK
    print(f"gateway:   {checkout.gateway}")
    print(f"reference: {checkout.reference}")
    print(f"status:    {checkout.status}")
    if isinstance(action, Redirect):
        print(f"next:      send the customer to {action.url}")
    elif isinstance(action, OtpChallenge):
        print(f"next:      the customer received a one-time code ({action.message or 'OTP sent'});")
        print(f"           verify it with reference {action.reference}")
    else:
        print("next:      nothing: the gateway answered synchronously")
    return EXIT_OK


def _headers(values: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep:
            raise SystemExit(f"payhub verify: --header takes 'Name: value', got {value!r}")
        headers[name.strip()] = content.strip()
    return headers


def _result_json(result: PaymentResult) -> dict[str, Any]:
    return {
        "verified": True,
        "gateway": result.gateway,
        "status": result.status.value,
        "invoice_number": result.invoice_number,
        "amount": None
        if result.amount is None
        else {"amount": result.amount.format_amount(), "currency": result.amount.currency},
        "reference": result.reference,
        "transaction_id": result.transaction_id,
        "event_id": result.event_id,
    }


def cmd_verify(args: argparse.Namespace) -> int:
    if args.body_file:
        body = (
            sys.stdin.buffer.read() if args.body_file == "-" else Path(args.body_file).read_bytes()
        )
    else:
        body = (args.body or "").encode("utf-8")
    headers = _headers(args.header)
    method = args.method or ("POST" if body else "GET")
    callback = Callback(method=method, query=args.query or "", headers=headers, body=body)
    expected = None
    if args.expect_invoice:
        if not (args.expect_amount and args.expect_currency):
            raise SystemExit(
                "payhub verify: --expect-invoice needs --expect-amount and --expect-currency"
            )
        expected = Invoice(
            number=args.expect_invoice, amount=Money(args.expect_amount, args.expect_currency)
        )
    with Hub(_config(args.config)) as hub:
        result = hub.verify(callback, gateway=args.gateway, expected=expected)
    if args.json:
        print_json(_result_json(result))
    else:
        for key, value in _result_json(result).items():
            if isinstance(value, dict):
                value = f"{value['amount']} {value['currency']}"
            print(f"{key + ':':16}{'' if value is None else value}")
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace) -> int:
    import json
    import threading

    import httpx

    from payhub_core.sandbox import SandboxServer

    server = SandboxServer(host=args.host, port=args.port)
    if not server.emulators:
        print(
            "no sandbox emulators installed (pip install 'payhub-plutu[sandbox]' ...)",
            file=sys.stderr,
        )
        return EXIT_CONFIG

    def announce() -> None:
        for _ in range(200):
            try:
                index = httpx.get(f"{server.url}/", timeout=1).json()
                break
            except httpx.HTTPError:
                threading.Event().wait(0.05)
        else:
            return
        print(f"payhub sandbox listening on {server.url}  (PAYHUB_SANDBOX_URL={server.url})")
        for name, entry in index["emulators"].items():
            info = httpx.get(entry["info"], timeout=5).json()
            print(f"\n[{name}] {entry['url']}  {entry['description']}")
            print(json.dumps(info, indent=2))
        print("\nPress Ctrl+C to stop.", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from payhub_core.cli._demo import run_demo

    return run_demo(as_json=args.json)


def cmd_schema(args: argparse.Namespace) -> int:
    from payhub_core._schema import json_schemas

    print_json(json_schemas())
    return EXIT_OK


COMMANDS = {
    "adapters": cmd_adapters,
    "check": cmd_check,
    "pay": cmd_pay,
    "verify": cmd_verify,
    "sandbox": cmd_sandbox,
    "demo": cmd_demo,
    "schema": cmd_schema,
}
