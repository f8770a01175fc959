"""The ``payhub`` command.

Exit codes: 0 success; 1 the operation ran and failed (a declined payment, a bad
signature, a gateway error, a broken adapter); 2 bad arguments; 3 unusable configuration
(or a missing extra); 141 the reader closed the output early (``payhub schema | head``).
An error is one line on stderr, or ``{"error": {...}}`` on stdout with ``--json``; never
a traceback for bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

from payhub_core import __version__
from payhub_core._errors import ConfigurationError, PayhubError
from payhub_core.cli import _commands, _ledger, _new_adapter
from payhub_core.cli._base import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_PIPE,
    EXIT_USAGE,
    Command,
    UsageError,
)
from payhub_core.cli._render import error_json, print_json

__all__ = ["COMMANDS", "Command", "build_parser", "main"]

# Every subcommand, by name. A part of payhub with commands of its own merges its
# ``{name: Command}`` mapping in here.
COMMANDS: dict[str, Command] = {
    **_commands.COMMANDS,
    **_new_adapter.COMMANDS,
    **_ledger.COMMANDS,
}


class _Parser(argparse.ArgumentParser):
    """Bad arguments raise ``UsageError`` (reported by :func:`main` like every error)
    instead of printing usage and exiting from inside argparse."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, prog=self.prog)


def build_parser(commands: Mapping[str, Command] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="payhub", description="payhub: one payments API over many gateways")
    parser.add_argument("--version", action="version", version=f"payhub {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in (COMMANDS if commands is None else commands).items():
        cmd = sub.add_parser(name, help=command.help, description=command.help)
        cmd.add_argument("--json", action="store_true", help="machine-readable output")
        command.arguments(cmd)
    return parser


def _report(error: BaseException, code: int, *, prog: str, as_json: bool) -> int:
    if as_json:
        print_json(error_json(error, code))
    elif isinstance(error, UsageError):
        where = prog if error.prog in (None, "payhub") else error.prog
        print(f"{where}: bad arguments: {error.message}", file=sys.stderr)
    elif isinstance(error, ConfigurationError):
        print(f"{prog}: configuration error: {error}", file=sys.stderr)
    else:
        print(f"{prog}: {type(error).__name__}: {error}", file=sys.stderr)
    return code


def _silence_stdout() -> None:
    """After the reader closed stdout: send what is left to /dev/null, so that the flush
    at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a stdout that is not a file (tests)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``payhub`` with ``argv`` (default: the process's arguments); the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in arguments  # until the arguments are parsed
    named = [argument for argument in arguments if argument in COMMANDS]
    prog = f"payhub {named[0]}" if named else "payhub"
    try:
        try:
            args = build_parser().parse_args(arguments)
            as_json, prog = args.json, f"payhub {args.command}"
            return COMMANDS[args.command].run(args)
        except UsageError as error:
            return _report(error, EXIT_USAGE, prog=prog, as_json=as_json)
        except ConfigurationError as error:
            return _report(error, EXIT_CONFIG, prog=prog, as_json=as_json)
        except PayhubError as error:
            return _report(error, EXIT_FAILED, prog=prog, as_json=as_json)
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
