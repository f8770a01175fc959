"""The core ``payhub`` subcommands. Each returns an exit code; bad arguments raise
``UsageError`` and everything else a payhub error, whose messages never carry secrets."""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from payhub_core import _registry
from payhub_core._config import HubConfig, override_names
from payhub_core._errors import AmountMismatch, ConfigurationError, PayhubError
from payhub_core._hub import Hub
from payhub_core._models import (
    OPERATIONS,
    Callback,
    Capabilities,
    Customer,
    Invoice,
    OtpChallenge,
    OtpCode,
    PaymentResult,
    PaymentStatus,
    Redirect,
)
from payhub_core._money import Money
from payhub_core.cli._base import (
    CONFIG_HELP,
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    Command,
    UsageError,
    arguments,
    load_config,
    open_hub,
)
from payhub_core.cli._checks import adapter_problems
from payhub_core.cli._render import Progress, error_json, print_json, table

__all__ = ["COMMANDS"]

# Statuses that say money moved or is held: only these are compared with an expected
# amount (a refund or failure event legitimately carries another), as the hub does.
_MONEY_STATUSES = (PaymentStatus.PAID, PaymentStatus.AUTHORIZED)


def _capabilities_json(caps: Capabilities) -> dict[str, Any]:
    """Capabilities with every list in a fixed order (JSON output is deterministic)."""
    return {
        "currencies": sorted(caps.currencies),
        "operations": [op for op in OPERATIONS if op in caps.operations],
        "flows": sorted(caps.flows),
        "amount_decimals": caps.amount_decimals,
        "min_amount": [str(money) for money in sorted(caps.min_amount, key=_currency)],
        "max_amount": [str(money) for money in sorted(caps.max_amount, key=_currency)],
    }


def _currency(money: Money) -> str:
    return money.currency


def _capabilities_text(caps: Capabilities) -> tuple[str, str, str]:
    data = _capabilities_json(caps)
    return (
        ",".join(data["currencies"]) or "any",
        ",".join(data["operations"]),
        ",".join(data["flows"]),
    )


# -- adapters ---------------------------------------------------------------------------


def cmd_adapters(args: argparse.Namespace) -> int:
    infos = adapter_problems(_registry.available_adapters())
    broken = sorted({info.name for info in infos if not info.ok})
    problem = None
    if broken:
        problem = ConfigurationError(
            f"{len(broken)} installed adapter{'s are' if len(broken) > 1 else ' is'} broken: "
            + ", ".join(broken)
        )
    if args.json:
        listing = [
            {
                "name": info.name,
                "distribution": info.distribution,
                "version": info.version,
                "target": info.target,
                "ok": info.ok,
                "capabilities": None
                if info.capabilities is None
                else _capabilities_json(info.capabilities),
                "error": info.error,
            }
            for info in infos
        ]
        print_json({"adapters": listing, **(error_json(problem, EXIT_FAILED) if problem else {})})
        return EXIT_FAILED if problem else EXIT_OK
    if not infos:
        print("no payhub adapters installed (pip install payhub-plutu payhub-plural)")
    else:
        rows = []
        for info in infos:
            where = f"{info.distribution} {info.version}"
            if info.ok and info.capabilities is not None:
                rows.append([info.name, where, *_capabilities_text(info.capabilities)])
            else:
                rows.append([info.name, where, "BROKEN", info.error or "", ""])
        print(table(["adapter", "distribution", "currencies", "operations", "flows"], rows))
    if problem is not None:
        print(f"payhub adapters: {problem}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


# -- check ------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    # Each gateway on its own first, so that every broken one is reported, not the first.
    gateways: dict[str, dict[str, Any]] = {}
    problems: dict[str, PayhubError] = {}
    for alias, gateway in config.gateways.items():
        try:
            with Hub(HubConfig(gateways={alias: gateway})) as hub:
                caps = hub.capabilities(alias)
        except PayhubError as error:
            problems[alias] = error
            gateways[alias] = {
                "adapter": gateway.adapter,
                "ok": False,
                **error_json(error, EXIT_CONFIG),
            }
        else:
            gateways[alias] = {"adapter": gateway.adapter, "ok": True, **_capabilities_json(caps)}
    whole: PayhubError | None = None
    if not problems:
        try:
            # Then the whole configuration, built exactly as the application builds it.
            Hub(config).close()
        except PayhubError as error:
            whole = error
    overrides = override_names(os.environ)
    summary: PayhubError | None = whole
    if len(problems) == 1:
        [summary] = problems.values()
    elif problems:
        names = ", ".join(sorted(problems))
        summary = ConfigurationError(
            f"{len(problems)} of {len(gateways)} gateways cannot be built: {names}"
        )
    if args.json:
        document: dict[str, Any] = {
            "ok": summary is None,
            "default": config.default,
            "environment_overrides": overrides,
            "gateways": gateways,
        }
        if summary is not None:
            document.update(error_json(summary, EXIT_CONFIG))
        print_json(document)
        return EXIT_OK if summary is None else EXIT_CONFIG
    rows = []
    for alias, entry in gateways.items():
        name = alias + (" (default)" if alias == config.default else "")
        currencies = ",".join(entry.get("currencies", ())) or ("any" if entry["ok"] else "")
        rows.append([name, entry["adapter"], currencies, "ok" if entry["ok"] else "BROKEN"])
    print(table(["gateway", "adapter", "currencies", "status"], rows))
    for alias, problem in problems.items():
        print(f"\n{alias}: {problem.message}")
    if overrides:
        print(f"from the environment: {', '.join(overrides)}")
    if summary is not None:
        print(f"payhub check: configuration error: {summary}", file=sys.stderr)
        return EXIT_CONFIG
    print("configuration OK")
    return EXIT_OK


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", help=CONFIG_HELP)


# -- pay --------------------------------------------------------------------------------


def _invoice(args: argparse.Namespace) -> Invoice:
    with arguments("invalid payment arguments"):
        customer = None
        if args.mobile or args.birth_year is not None or args.email:
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


def _otp_command(gateway: str, reference: str, invoice: Invoice, config: str | None) -> str:
    """The ``payhub verify`` line that completes an OTP payment (``CODE`` to fill in)."""
    words = [
        *("payhub", "verify", "--gateway", gateway, "--otp-reference", reference),
        *("--otp-code", "CODE", "--expect-invoice", invoice.number),
        *("--expect-amount", invoice.amount.format_amount()),
        *("--expect-currency", invoice.amount.currency),
        *(("--config", config) if config else ()),
    ]
    return " ".join(word if word == "CODE" else shlex.quote(word) for word in words)


def cmd_pay(args: argparse.Namespace) -> int:
    invoice = _invoice(args)
    progress = Progress(enabled=not args.json)
    with open_hub(args.config) as hub:
        progress.update(f"initiating {invoice.amount} on {args.gateway or hub.default_gateway}…")
        try:
            if hub.config.ledger is not None:  # the ledger knows whether this call sent it
                initiation = hub.initiate_once(invoice, gateway=args.gateway)
                checkout, created = initiation.checkout, initiation.created
            else:
                checkout, created = hub.initiate(invoice, gateway=args.gateway), True
        finally:
            progress.done()
    action = checkout.action
    next_step: str | None = None
    if isinstance(action, Redirect):
        next_step = f"send the customer to {action.url}"
    elif isinstance(action, OtpChallenge):
        next_step = _otp_command(checkout.gateway, action.reference, invoice, args.config)
    if args.json:
        print_json(
            {
                "gateway": checkout.gateway,
                "reference": checkout.reference,
                "status": checkout.status.value,
                "action": None
                if action is None
                else {"type": type(action).__name__, **action.model_dump(mode="json")},
                "next": next_step,
                "created": created,
            }
        )
        return EXIT_OK
    if not created:
        print(f"already initiated: same checkout, nothing sent (invoice {invoice.number})")
    print(f"gateway:   {checkout.gateway}")
    print(f"reference: {checkout.reference}")
    print(f"status:    {checkout.status}")
    if isinstance(action, Redirect):
        print(f"next:      {next_step}")
    elif isinstance(action, OtpChallenge):
        print(f"next:      the customer received a one-time code ({action.message or 'OTP sent'});")
        print("           confirm the payment with the code they give you:")
        print(f"           {next_step}")
    else:
        print("next:      nothing: the gateway answered synchronously")
    return EXIT_OK


def _pay_arguments(pay: argparse.ArgumentParser) -> None:
    pay.add_argument("--config", help=CONFIG_HELP)
    pay.add_argument("--gateway", help="gateway alias (default: the configured default)")
    pay.add_argument("--amount", required=True, help="decimal amount, e.g. 25.50")
    pay.add_argument("--currency", required=True, help="ISO 4217 code, e.g. LYD")
    pay.add_argument("--invoice", required=True, help="your invoice number")
    pay.add_argument("--return-url")
    pay.add_argument("--callback-url")
    pay.add_argument("--mobile")
    pay.add_argument("--birth-year", type=int)
    pay.add_argument("--email")
    pay.add_argument("--lang")
    pay.add_argument("--manual-capture", action="store_true", help="authorize now, capture later")


# -- verify -----------------------------------------------------------------------------


def _headers(values: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header takes 'Name: value', got {value!r}")
        headers[name.strip()] = content.strip()
    return headers


def _body(args: argparse.Namespace) -> bytes:
    if args.body_file is None:
        return (args.body or "").encode("utf-8", "surrogateescape")
    try:
        if args.body_file == "-":
            return sys.stdin.buffer.read()
        return Path(args.body_file).read_bytes()
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or "not a usable file name"
        raise UsageError(f"cannot read --body-file {args.body_file!r}: {reason}") from None


def _expected_money(args: argparse.Namespace) -> Money | None:
    if (args.expect_amount is None) != (args.expect_currency is None):
        raise UsageError("--expect-amount and --expect-currency go together")
    if args.expect_amount is None:
        return None
    with arguments("invalid --expect-amount/--expect-currency"):
        return Money(args.expect_amount, args.expect_currency)


def _evidence(args: argparse.Namespace, money: Money | None) -> Callback | OtpCode:
    callback_given = [
        flag
        for flag, value in (
            ("--method", args.method),
            ("--query", args.query),
            ("--body", args.body),
            ("--body-file", args.body_file),
            ("--header", args.header),
        )
        if value
    ]
    if args.otp_reference is None and args.otp_code is None:
        body = _body(args)
        with arguments("invalid callback"):
            return Callback(
                method=args.method or ("POST" if body else "GET"),
                query=args.query or "",
                headers=_headers(args.header),
                body=body,
            )
    if args.otp_reference is None or args.otp_code is None:
        raise UsageError("--otp-reference and --otp-code go together")
    if callback_given:
        raise UsageError(f"an OTP is verified without a callback: drop {', '.join(callback_given)}")
    if money is None or args.expect_invoice is None:
        raise UsageError(
            "an OTP confirms one invoice: give --expect-invoice, --expect-amount and "
            "--expect-currency (as shown by payhub pay)"
        )
    with arguments("invalid OTP arguments"):
        return OtpCode(
            reference=args.otp_reference,
            code=args.otp_code,
            invoice=Invoice(number=args.expect_invoice, amount=money),
        )


def check_expectations(result: PaymentResult, number: str | None, money: Money | None) -> None:
    """Raise ``AmountMismatch`` unless ``result`` has the invoice ``number`` and the amount
    ``money`` that were given (each on its own; ``None`` is not compared). A payment that
    moved money must state what it checks against: a missing value is a mismatch."""
    moved = result.status in _MONEY_STATUSES
    if number is not None:
        if result.invoice_number is None and moved:
            raise AmountMismatch(
                "the gateway did not state the invoice number, so the payment cannot be "
                f"matched to invoice {number!r}",
                field="invoice_number",
                expected_value=number,
                actual_value="(missing)",
                gateway=result.gateway,
            )
        if result.invoice_number is not None and result.invoice_number != number:
            raise AmountMismatch(
                f"the gateway reports invoice {result.invoice_number!r}, expected {number!r}",
                field="invoice_number",
                expected_value=number,
                actual_value=result.invoice_number,
                gateway=result.gateway,
            )
    if money is None or not moved:
        return
    if result.amount is None:
        raise AmountMismatch(
            f"the gateway did not state the amount, so the payment cannot be matched to {money}",
            field="amount",
            expected_value=str(money),
            actual_value="(missing)",
            gateway=result.gateway,
        )
    if result.amount.currency != money.currency:
        raise AmountMismatch(
            f"the gateway reports {result.amount.currency}, expected {money.currency}",
            field="currency",
            expected_value=money.currency,
            actual_value=result.amount.currency,
            gateway=result.gateway,
        )
    if result.amount != money:
        raise AmountMismatch(
            f"the gateway reports {result.amount}, expected {money}",
            field="amount",
            expected_value=str(money),
            actual_value=str(result.amount),
            gateway=result.gateway,
        )


def _result_json(result: PaymentResult, checked: list[str]) -> dict[str, Any]:
    return {
        "verified": True,
        "checked": checked,
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
    money = _expected_money(args)
    evidence = _evidence(args, money)
    number = args.expect_invoice
    expected = None
    if number is not None and money is not None:
        with arguments("invalid --expect-invoice"):
            expected = Invoice(number=number, amount=money)
    config = load_config(args.config)
    recorded: dict[str, Any] | None = None
    with Hub(config) as hub:
        if isinstance(evidence, OtpCode) and config.ledger is not None:
            # Confirming a code moves the money: with a ledger, record it as the
            # application's own OTP form does (hub.receive), or the ledger says pending.
            receipt = hub.receive(evidence, gateway=args.gateway, source="otp")
            result, change = receipt.result, receipt.change
            recorded = {
                "change": None
                if change is None
                else f"{change.previous.value if change.previous else '-'} -> "
                f"{change.status.value}",
                "duplicate": receipt.duplicate,
            }
            check_expectations(result, number, money)
        else:
            result = hub.verify(evidence, gateway=args.gateway, expected=expected)
    if expected is None:
        check_expectations(result, number, money)
    checked = ["signature" if isinstance(evidence, Callback) else "otp"]
    checked += ["invoice_number"] if number is not None else []
    checked += ["amount", "currency"] if money is not None else []
    document = _result_json(result, checked)
    if recorded is not None:
        document["ledger"] = recorded
    if args.json:
        print_json(document)
        return EXIT_OK
    for key, value in document.items():
        if value is None:
            continue  # not sent by this gateway (an event id, say): no empty line
        if key == "ledger":
            repeat = "already recorded" + (
                "; the code was not sent again" if isinstance(evidence, OtpCode) else ""
            )
            value = repeat if value["duplicate"] else value["change"] or "no change"
        elif isinstance(value, dict):
            value = f"{value['amount']} {value['currency']}"
        elif isinstance(value, list):
            value = ", ".join(value)
        print(f"{key + ':':16}{value}")
    if number is None:
        print(f"{'not checked:':16}the invoice number (give --expect-invoice)")
    if money is None:
        print(f"{'not checked:':16}the amount (give --expect-amount and --expect-currency)")
    return EXIT_OK


def _verify_arguments(verify: argparse.ArgumentParser) -> None:
    verify.add_argument("--config", help=CONFIG_HELP)
    verify.add_argument("--gateway", help="gateway alias (default: the configured default)")
    callback = verify.add_argument_group("a callback, as received (checked offline)")
    callback.add_argument(
        "--method", choices=["GET", "POST"], help="default: POST with a body, else GET"
    )
    callback.add_argument("--query", help="the raw query string as received")
    body = callback.add_mutually_exclusive_group()
    body.add_argument("--body", help="the raw body as text")
    body.add_argument("--body-file", help="a file with the raw body ('-' for stdin)")
    callback.add_argument(
        "--header", action="append", default=[], help="'Name: value' (repeatable)"
    )
    otp = verify.add_argument_group(
        "or a one-time code a wallet customer received (sent to the gateway)"
    )
    otp.add_argument("--otp-reference", help="the reference payhub pay printed")
    otp.add_argument("--otp-code", help="the code the customer received")
    expect = verify.add_argument_group(
        "what the payment must be (each given expectation is checked)"
    )
    expect.add_argument("--expect-invoice", help="your invoice number")
    expect.add_argument("--expect-amount", help="decimal amount (with --expect-currency)")
    expect.add_argument("--expect-currency", help="ISO 4217 code (with --expect-amount)")


# -- sandbox ----------------------------------------------------------------------------


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535, not {port}")
    return port


def cmd_sandbox(args: argparse.Namespace) -> int:
    import threading

    from payhub_core.sandbox._notify import is_loopback
    from payhub_core.sandbox._server import SandboxServer, require_sandbox_extra

    if not is_loopback(args.host):
        if not args.allow_remote:
            raise UsageError(
                f"refusing to listen on {args.host!r}, which is not a loopback address: the "
                "sandbox has no authentication (anyone who reaches it can change its webhook "
                "targets and signing secret and list its transactions); add --allow-remote "
                "to do it anyway"
            )
        print(
            f"payhub sandbox: WARNING: listening on {args.host}, reachable from other "
            "machines; the sandbox has no authentication: anyone who reaches it can change "
            "its webhook targets and signing secret, reset it and list its transactions",
            file=sys.stderr,
        )
    require_sandbox_extra()
    server = SandboxServer(
        host=args.host,
        port=args.port,
        allow_remote=args.allow_remote,
        notify_hosts=args.notify_host,
    )
    if not server.emulators:
        server.stop()
        print(
            "payhub sandbox: no sandbox emulators installed "
            "(pip install 'payhub-plutu[sandbox]' ...)",
            file=sys.stderr,
        )
        return EXIT_CONFIG

    threading.Thread(target=_announce, args=(server, args.json), daemon=True).start()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever(access_log=not args.json)  # --json: stdout is one document
    finally:
        server.stop()
    return EXIT_OK


def _announce(server: Any, as_json: bool) -> None:
    """Print where the sandbox listens and how to configure each adapter against it, once
    it accepts connections."""
    import socket
    import threading
    from urllib.parse import urlsplit

    address = urlsplit(server.url)
    for _ in range(200):
        try:  # a bare connection: an HTTP probe would show in the access log
            socket.create_connection((address.hostname, address.port), timeout=1).close()
            break
        except OSError:
            threading.Event().wait(0.05)
    else:
        return
    with contextlib.suppress(BrokenPipeError):
        if as_json:
            import httpx

            index = httpx.get(f"{server.url}/", timeout=5).json()
            infos = {
                name: httpx.get(entry["info"], timeout=5).json()
                for name, entry in index["emulators"].items()
            }
            print_json({"url": server.url, "emulators": infos})
            sys.stdout.flush()
            return
        print(sandbox_text(server.url, server.emulators), flush=True)


def sandbox_text(url: str, emulators: Any) -> str:
    """The text ``payhub sandbox`` prints: the emulators, and a ``[gateways.*]`` table of
    payhub.toml per adapter, in 100 columns. Everything else an emulator knows (scenarios,
    test cards, OTP codes) is at its ``/_sandbox`` URL."""
    import json
    import textwrap

    lines = [f"payhub sandbox listening on {url}  (PAYHUB_SANDBOX_URL={url})", ""]
    tables: dict[str, dict[str, Any]] = {}
    for emulator in emulators:
        base = f"{url}/{emulator.name}"
        lines.append(f"{emulator.name:8}{base}")
        lines += textwrap.wrap(
            emulator.description, 100, initial_indent=" " * 8, subsequent_indent=" " * 8
        )
        lines += [f"        test data (cards, OTP codes) and scenarios: {base}/_sandbox", ""]
        for case in emulator.demo_cases(base):
            tables.setdefault(case.adapter, dict(case.settings))
    lines += [
        'Gateways for payhub.toml (environment = "sandbox" reaches this sandbox through',
        f"PAYHUB_SANDBOX_URL={url}; these credentials are public and open nothing else):",
    ]
    for adapter, settings in tables.items():
        lines += ["", f"[gateways.{adapter.replace('.', '_')}]", f'adapter = "{adapter}"']
        settings.pop("base_url", None)
        settings.setdefault("environment", "sandbox")
        lines += [f"{key} = {json.dumps(value, default=str)}" for key, value in settings.items()]
    lines += ["", "Press Ctrl+C to stop."]
    return "\n".join(lines)


def _sandbox_arguments(sandbox: argparse.ArgumentParser) -> None:
    sandbox.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    sandbox.add_argument("--port", type=_port, default=8808, help="default: 8808")
    sandbox.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host that is not loopback (the sandbox has no authentication)",
    )
    sandbox.add_argument(
        "--notify-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a host besides loopback that callbacks and webhooks may be sent to "
        "(repeatable; '*' for any)",
    )


# -- demo, schema -----------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from payhub_core.cli._demo import run_demo

    return run_demo(as_json=args.json)


def cmd_schema(_args: argparse.Namespace) -> int:
    from payhub_core._schema import json_schemas

    print_json(json_schemas())
    return EXIT_OK


COMMANDS: dict[str, Command] = {
    "adapters": Command(
        "list installed adapters with their capabilities (and broken ones)",
        cmd_adapters,
    ),
    "check": Command(
        "build every configured gateway as the application would, with no network call",
        cmd_check,
        _check_arguments,
    ),
    "pay": Command(
        "initiate a payment and print what the customer does next", cmd_pay, _pay_arguments
    ),
    "verify": Command(
        "verify a captured callback (offline) or a wallet's one-time code",
        cmd_verify,
        _verify_arguments,
    ),
    "sandbox": Command(
        "serve every installed gateway emulator on one local port",
        cmd_sandbox,
        _sandbox_arguments,
    ),
    "demo": Command("walk every installed adapter through a payment in the sandbox", cmd_demo),
    "schema": Command("print the JSON Schema of the public models", cmd_schema),
}
