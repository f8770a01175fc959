"""The ``payhub`` command.

Exit codes: 0 success; 1 the operation ran and failed (a declined payment, a bad
signature, a gateway error, a broken adapter); 2 bad arguments; 3 unusable configuration.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from payhub_core import __version__
from payhub_core._errors import ConfigurationError, PayhubError
from payhub_core.cli._commands import COMMANDS, EXIT_CONFIG, EXIT_FAILED

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="payhub", description="payhub: one payments API over many gateways"
    )
    parser.add_argument("--version", action="version", version=f"payhub {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--json", action="store_true", help="machine-readable output")
        return cmd

    command("adapters", "list installed adapters with their capabilities (and broken ones)")

    check = command("check", "validate a configuration without any network call")
    check.add_argument(
        "config", nargs="?", help="TOML file (default: $PAYHUB_CONFIG or ./payhub.toml)"
    )

    pay = command("pay", "initiate a payment and print what the customer does next")
    pay.add_argument("--config", help="TOML file (default: $PAYHUB_CONFIG or ./payhub.toml)")
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

    verify = command("verify", "verify a captured callback offline (signature, then amounts)")
    verify.add_argument("--config", help="TOML file (default: $PAYHUB_CONFIG or ./payhub.toml)")
    verify.add_argument("--gateway", help="gateway alias (default: the configured default)")
    verify.add_argument(
        "--method", choices=["GET", "POST"], help="default: POST with a body, else GET"
    )
    verify.add_argument("--query", help="the raw query string as received")
    verify.add_argument("--body", help="the raw body as text")
    verify.add_argument("--body-file", help="a file with the raw body ('-' for stdin)")
    verify.add_argument("--header", action="append", default=[], help="'Name: value' (repeatable)")
    verify.add_argument("--expect-invoice")
    verify.add_argument("--expect-amount")
    verify.add_argument("--expect-currency")

    sandbox = command("sandbox", "serve every installed gateway emulator on one local port")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8808)

    command("demo", "walk every installed adapter through a payment's life in the sandbox")
    command("schema", "print the JSON Schema of the public models")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ConfigurationError as error:
        print(f"payhub {args.command}: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except PayhubError as error:
        print(f"payhub {args.command}: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
