"""Hub configuration from a mapping, a TOML file or the environment.

Shape (TOML; the same as a dict)::

    default = "cards"
    [gateways.cards]
    adapter = "plutu.localbankcards"
    environment = "sandbox"
    api_key = "..."

Environment variables (``Hub.from_env``):

- ``PAYHUB_CONFIG``: path of a TOML file to start from (optional);
- ``PAYHUB_DEFAULT``: the default gateway alias;
- ``PAYHUB_<ALIAS>__<FIELD>``: one setting of one gateway, for example
  ``PAYHUB_CARDS__SECRET_KEY``. ``<ALIAS>`` is the alias upper-cased with ``-`` as ``_``;
  the double underscore separates it from the field. A variable overrides the file; a
  gateway may be defined by variables alone (it then needs ``PAYHUB_<ALIAS>__ADAPTER``).

Only the shape is checked here; each gateway's settings are validated by its adapter's
``Settings`` model when the hub is built.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from payhub_core._errors import ConfigurationError

__all__ = ["GatewayConfig", "HubConfig"]

_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_ENV_SETTING = re.compile(r"PAYHUB_([A-Z0-9_]+?)__([A-Z0-9_]+)")
# Optional tables that belong to optional parts of payhub: each is kept as given here and
# validated by its own part (the ledger, the web endpoints) when that part is built.
_SECTIONS = ("ledger", "web")
_TOP_LEVEL = {"default", "gateways", *_SECTIONS}


@dataclass(frozen=True)
class GatewayConfig:
    """One configured gateway: its alias, the adapter's entry point name, raw settings."""

    alias: str
    adapter: str
    settings: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class HubConfig:
    gateways: Mapping[str, GatewayConfig]
    default: str | None = None
    ledger: Mapping[str, Any] | None = field(default=None, repr=False)
    """The ``[ledger]`` table as given (validated by :mod:`payhub_core.ledger`)."""
    web: Mapping[str, Any] | None = field(default=None, repr=False)
    """The ``[web]`` table as given (validated by :mod:`payhub_core.web`)."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> HubConfig:
        if not isinstance(data, Mapping):
            raise ConfigurationError("the configuration must be a mapping")
        unknown = sorted(set(data) - _TOP_LEVEL)
        if unknown:
            raise ConfigurationError(
                f"unknown top-level configuration keys: {', '.join(unknown)} "
                "(expected 'default', 'gateways', 'ledger' and 'web')"
            )
        sections: dict[str, Mapping[str, Any] | None] = {}
        for name in _SECTIONS:
            table = data.get(name)
            if table is not None and not isinstance(table, Mapping):
                raise ConfigurationError(f"the configuration's [{name}] must be a table")
            sections[name] = dict(table) if table is not None else None
        tables = data.get("gateways")
        if not isinstance(tables, Mapping) or not tables:
            raise ConfigurationError("the configuration has no [gateways.<alias>] table")
        gateways: dict[str, GatewayConfig] = {}
        for alias, table in tables.items():
            if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
                raise ConfigurationError(
                    f"gateway alias {alias!r} must be 1-64 letters, digits, '-' or '_'"
                )
            if not isinstance(table, Mapping):
                raise ConfigurationError(f"gateway {alias!r}: its configuration must be a table")
            adapter = table.get("adapter")
            if not isinstance(adapter, str) or not adapter:
                raise ConfigurationError(
                    f"gateway {alias!r}: field 'adapter' is required "
                    "(an entry point name such as 'plutu.localbankcards'; "
                    "`payhub adapters` lists them)",
                    gateway=alias,
                )
            settings = {key: value for key, value in table.items() if key != "adapter"}
            gateways[alias] = GatewayConfig(alias=alias, adapter=adapter, settings=settings)
        default = data.get("default")
        if default is not None and default not in gateways:
            raise ConfigurationError(
                f"default gateway {default!r} is not configured; configured: "
                f"{', '.join(sorted(gateways))}"
            )
        return cls(gateways=gateways, default=default, **sections)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> HubConfig:
        return cls.from_mapping(_read_toml(Path(path)))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HubConfig:
        env = os.environ if environ is None else environ
        data: dict[str, Any] = {}
        if env.get("PAYHUB_CONFIG"):
            data = _read_toml(Path(env["PAYHUB_CONFIG"]))
        tables = data.get("gateways", {})
        if not isinstance(tables, Mapping):
            raise ConfigurationError(
                "the configuration's 'gateways' must be a table of [gateways.<alias>] tables"
            )
        gateways: dict[str, dict[str, Any]] = {}
        for alias, table in tables.items():
            if not isinstance(table, Mapping):
                raise ConfigurationError(
                    f"gateway {alias!r}: its configuration must be a table", gateway=str(alias)
                )
            gateways[alias] = dict(table)
        by_env_name: dict[str, str] = {}
        ambiguous: dict[str, list[str]] = {}
        for alias in gateways:
            env_name = str(alias).upper().replace("-", "_")
            if env_name in by_env_name:
                ambiguous.setdefault(env_name, [by_env_name[env_name]]).append(alias)
            by_env_name[env_name] = alias
        for name, value in sorted(env.items()):
            match = _ENV_SETTING.fullmatch(name)
            if match is None:
                continue
            env_alias, env_field = match.groups()
            if env_alias in ambiguous:
                raise ConfigurationError(
                    f"environment variable {name} could mean gateway "
                    + " or ".join(repr(alias) for alias in ambiguous[env_alias])
                    + "; rename one of them"
                )
            alias = by_env_name.setdefault(env_alias, env_alias.lower())
            gateways.setdefault(alias, {})[env_field.lower()] = value
        if env.get("PAYHUB_DEFAULT"):
            data["default"] = env["PAYHUB_DEFAULT"]
        if gateways:
            data["gateways"] = gateways
        if not data:
            raise ConfigurationError(
                "no configuration in the environment: set PAYHUB_CONFIG to a TOML file, or "
                "PAYHUB_<ALIAS>__ADAPTER and the gateway's settings as PAYHUB_<ALIAS>__<FIELD>"
            )
        return cls.from_mapping(data)

    def resolve(self, alias: str | None) -> GatewayConfig:
        """The gateway for ``alias``; ``None`` is the default (or the only gateway)."""
        if alias is None:
            if self.default is not None:
                alias = self.default
            elif len(self.gateways) == 1:
                alias = next(iter(self.gateways))
            else:
                raise ConfigurationError(
                    "no gateway given and no default configured; configured: "
                    f"{', '.join(sorted(self.gateways))}"
                )
        try:
            return self.gateways[alias]
        except KeyError:
            raise ConfigurationError(
                f"gateway {alias!r} is not configured; configured: "
                f"{', '.join(sorted(self.gateways))}",
                gateway=alias,
            ) from None


def _read_toml(path: Path) -> dict[str, Any]:
    # Imported here: most hubs are built from a mapping, and import time counts.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigurationError(f"configuration file {str(path)!r} does not exist") from None
    except OSError as error:
        raise ConfigurationError(
            f"cannot read configuration file {str(path)!r}: {error.strerror}"
        ) from None
    except tomllib.TOMLDecodeError as error:
        # The message names line and column, never the value.
        raise ConfigurationError(
            f"configuration file {str(path)!r} is not valid TOML: {error}"
        ) from None
