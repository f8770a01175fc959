"""Hub configuration from a mapping, a TOML file or the environment.

Shape (TOML; the same as a dict)::

    default = "cards"
    [gateways.cards]
    adapter = "plutu.localbankcards"
    environment = "sandbox"
    api_key = "..."

A file or the environment is deployment configuration, and the environment overrides it
the same way everywhere (``Hub.from_file``, ``Hub.from_env`` and the ``payhub`` command):

- ``PAYHUB_CONFIG``: path of a TOML file to start from (``from_env`` and the command);
- ``PAYHUB_DEFAULT``: the default gateway alias;
- ``PAYHUB_<ALIAS>__<FIELD>``: one setting of one gateway, for example
  ``PAYHUB_CARDS__SECRET_KEY``. ``<ALIAS>`` is the alias upper-cased with ``-`` as ``_``;
  the double underscore separates it from the field. A variable overrides the file; a
  gateway may be defined by variables alone (it then needs ``PAYHUB_<ALIAS>__ADAPTER``);
- ``PAYHUB_LEDGER__<FIELD>`` and ``PAYHUB_WEB__<FIELD>``: one key of the ``[ledger]`` or
  ``[web]`` table (so a database password can stay out of the file too).

A mapping given in code (``Hub.from_config``, ``HubConfig.from_mapping``) is used exactly as
given: the code that builds it decides where its values come from.

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

__all__ = ["GatewayConfig", "HubConfig", "override_names"]

_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_ENV_SETTING = re.compile(r"PAYHUB_([A-Z0-9_]+?)__([A-Z0-9_]+)")
# Optional tables that belong to optional parts of payhub: each is kept as given here and
# validated by its own part (the ledger, the web endpoints) when that part is built.
_SECTIONS = ("ledger", "web")
_TOP_LEVEL = {"default", "gateways", *_SECTIONS}
_NO_GATEWAYS = "the configuration has no [gateways.<alias>] table"


@dataclass(frozen=True)
class GatewayConfig:
    """One configured gateway: its alias, the adapter's entry point name, raw settings."""

    alias: str
    adapter: str
    settings: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class HubConfig:
    """A checked configuration: the gateways by alias, the default alias, optional tables."""

    gateways: Mapping[str, GatewayConfig]
    default: str | None = None
    ledger: Mapping[str, Any] | None = field(default=None, repr=False)
    """The ``[ledger]`` table as given (validated by :mod:`payhub_core.ledger`)."""
    web: Mapping[str, Any] | None = field(default=None, repr=False)
    """The ``[web]`` table as given (validated by :mod:`payhub_core.web`)."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> HubConfig:
        """The configuration ``data`` describes, exactly as given (no environment)."""
        if not isinstance(data, Mapping):
            raise ConfigurationError("the configuration must be a mapping")
        unknown = sorted(map(str, set(data) - _TOP_LEVEL))
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
            raise ConfigurationError(_NO_GATEWAYS)
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
        if default is not None and (not isinstance(default, str) or default not in gateways):
            raise ConfigurationError(
                f"default gateway {default!r} is not configured; configured: "
                f"{', '.join(sorted(gateways))}"
            )
        return cls(gateways=gateways, default=default, **sections)

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None
    ) -> HubConfig:
        """The TOML file at ``path`` with the environment's overrides applied.

        ``environ`` defaults to ``os.environ``; pass ``{}`` to read the file alone.
        """
        env = os.environ if environ is None else environ
        return cls._from_file_data(_read_toml(path), env, source=path)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HubConfig:
        """The file named by ``PAYHUB_CONFIG`` (if set) with the environment's overrides
        applied, or the environment alone. ``environ`` defaults to ``os.environ``."""
        env = os.environ if environ is None else environ
        path = env.get("PAYHUB_CONFIG")
        if path:
            return cls._from_file_data(_read_toml(path), env, source=path)
        data = _apply_environment({}, env)
        if not data:
            raise ConfigurationError(
                "no configuration in the environment: set PAYHUB_CONFIG to a TOML file, or "
                "PAYHUB_<ALIAS>__ADAPTER and the gateway's settings as PAYHUB_<ALIAS>__<FIELD>"
            )
        return cls.from_mapping(data)

    @classmethod
    def _from_file_data(
        cls, data: dict[str, Any], env: Mapping[str, str], *, source: str | os.PathLike[str]
    ) -> HubConfig:
        merged = _apply_environment(data, env)
        if not data and not merged.get("gateways"):
            raise ConfigurationError(
                f"configuration file {os.fspath(source)!r} is empty: {_NO_GATEWAYS}"
            )
        return cls.from_mapping(merged)

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
        except (KeyError, TypeError):
            raise ConfigurationError(
                f"gateway {alias!r} is not configured; configured: "
                f"{', '.join(sorted(self.gateways))}",
                gateway=alias if isinstance(alias, str) else None,
            ) from None


def override_names(env: Mapping[str, str]) -> list[str]:
    """The names (never the values) of the variables in ``env`` that override a
    configuration: ``PAYHUB_DEFAULT`` and every ``PAYHUB_<ALIAS>__<FIELD>``."""
    return sorted(name for name in env if name == "PAYHUB_DEFAULT" or _ENV_SETTING.fullmatch(name))


def _apply_environment(data: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """``data`` (a file's tables) with ``PAYHUB_DEFAULT``, ``PAYHUB_<ALIAS>__<FIELD>`` and
    ``PAYHUB_<SECTION>__<FIELD>`` applied on top. Values are kept as the strings they are;
    each part's own model converts them (``"0"`` to ``0``) when it validates."""
    result = dict(data)
    tables = result.get("gateways", {})
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
    sections: dict[str, dict[str, Any]] = {}
    for name in _SECTIONS:
        table = result.get(name)
        if table is not None and not isinstance(table, Mapping):
            raise ConfigurationError(f"the configuration's [{name}] must be a table")
        sections[name.upper()] = dict(table or {})
    by_env_name: dict[str, str] = {}
    ambiguous: dict[str, list[str]] = {}
    for alias in gateways:
        env_name = str(alias).upper().replace("-", "_")
        if env_name in by_env_name or env_name in sections:
            first = by_env_name.get(env_name, f"the [{env_name.lower()}] table")
            ambiguous.setdefault(env_name, [first]).append(alias)
        by_env_name[env_name] = alias
    changed_sections: set[str] = set()
    for name, value in sorted(env.items()):
        match = _ENV_SETTING.fullmatch(name)
        if match is None:
            continue
        env_alias, env_field = match.groups()
        if env_alias in ambiguous:
            raise ConfigurationError(
                f"environment variable {name} could mean "
                + " or ".join(
                    what if what.startswith("the [") else f"gateway {what!r}"
                    for what in ambiguous[env_alias]
                )
                + "; rename the gateway"
            )
        if env_alias in sections:
            sections[env_alias][env_field.lower()] = value
            changed_sections.add(env_alias)
            continue
        alias = by_env_name.setdefault(env_alias, env_alias.lower())
        gateways.setdefault(alias, {})[env_field.lower()] = value
    for env_name in changed_sections:
        result[env_name.lower()] = sections[env_name]
    if env.get("PAYHUB_DEFAULT"):
        result["default"] = env["PAYHUB_DEFAULT"]
    if gateways:
        result["gateways"] = gateways
    return result


def _read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The TOML document at ``path``; every way it can be unusable is a ConfigurationError
    naming the file and the place, never a value from it."""
    # Imported here: most hubs are built from a mapping, and import time counts.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib

    shown = repr(os.fspath(path))
    if "\0" in str(os.fspath(path)):
        raise ConfigurationError(
            f"configuration file name {shown} is not a usable path (it contains a NUL character)"
        )
    try:
        with Path(path).open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigurationError(f"configuration file {shown} does not exist") from None
    except OSError as error:
        raise ConfigurationError(
            f"cannot read configuration file {shown}: {error.strerror}"
        ) from None
    except tomllib.TOMLDecodeError as error:
        # The message names line and column, never the value.
        raise ConfigurationError(f"configuration file {shown} is not valid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigurationError(
            f"configuration file {shown} is not UTF-8 text (byte {error.start} cannot be "
            "decoded); TOML files are UTF-8"
        ) from None
    except RecursionError:
        raise ConfigurationError(
            f"configuration file {shown} nests arrays or tables too deeply"
        ) from None
