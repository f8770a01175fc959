"""What every ``payhub`` subcommand shares: exit codes, the usage error, the command
record, and the one way the command finds its configuration."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from payhub_core._config import HubConfig
from payhub_core._errors import ConfigurationError, PayhubError
from payhub_core._hub import Hub

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_PIPE",
    "EXIT_USAGE",
    "Command",
    "UsageError",
    "arguments",
    "load_config",
    "open_hub",
]

EXIT_OK = 0
EXIT_FAILED = 1  # the operation ran and failed: declined, bad signature, gateway error
EXIT_USAGE = 2  # bad arguments (argparse's own code)
EXIT_CONFIG = 3  # the configuration (or the installation) cannot be used
EXIT_PIPE = 141  # the reader closed stdout early (`| head`): 128 + SIGPIPE, like any filter

DEFAULT_FILE = "payhub.toml"
CONFIG_HELP = f"TOML file (default: $PAYHUB_CONFIG, else ./{DEFAULT_FILE})"


class UsageError(Exception):
    """Bad arguments: the command did not run (exit 2). ``prog`` names the command."""

    def __init__(self, message: str, *, prog: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.prog = prog


def _no_arguments(_parser: argparse.ArgumentParser) -> None:
    return None


@dataclass(frozen=True)
class Command:
    """One subcommand: its help line, the function adding its arguments, and ``run``,
    which returns the exit code (or raises ``UsageError`` or a ``PayhubError``).

    Every command gets ``--json``; a command's module exposes a ``{name: Command}`` mapping
    that :mod:`payhub_core.cli` merges into ``COMMANDS``.
    """

    help: str
    run: Callable[[argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments


@contextmanager
def arguments(what: str) -> Iterator[None]:
    """Turn a payhub error raised while building values from arguments (an amount that is
    not money, an invoice number too long) into a ``UsageError`` naming ``what``."""
    try:
        yield
    except PayhubError as error:
        raise UsageError(f"{what}: {error.message}") from None


def load_config(path: str | None, environ: Mapping[str, str] | None = None) -> HubConfig:
    """The configuration the application would build: ``HubConfig.from_file(path)`` when a
    path is given, else ``HubConfig.from_env()`` when ``PAYHUB_CONFIG`` is set, else
    ``./payhub.toml`` if it exists, else the environment alone. The environment's
    ``PAYHUB_DEFAULT`` and ``PAYHUB_<ALIAS>__<FIELD>`` apply in every case, exactly as in
    ``Hub.from_file`` and ``Hub.from_env``."""
    env = os.environ if environ is None else environ
    if path:
        return HubConfig.from_file(path, environ=env)
    if env.get("PAYHUB_CONFIG"):
        return HubConfig.from_env(env)
    if Path(DEFAULT_FILE).is_file():
        return HubConfig.from_file(DEFAULT_FILE, environ=env)
    if not any(name.startswith("PAYHUB_") and "__" in name for name in env):
        raise ConfigurationError(
            f"no configuration: no ./{DEFAULT_FILE} here, no --config FILE, no PAYHUB_CONFIG "
            "and no PAYHUB_<ALIAS>__<FIELD> variables; write a payhub.toml (`payhub "
            "sandbox` prints its [gateways.*] tables for the sandbox)"
        )
    return HubConfig.from_env(env)


def open_hub(path: str | None) -> Hub:
    """A hub built exactly as ``Hub.from_file``/``Hub.from_env`` build it (see
    :func:`load_config`)."""
    return Hub(load_config(path))
