"""Configuration: a mapping, a TOML file, or the environment, validated when the hub is built.

Errors name the gateway alias and the field, and never echo a value: a canary in a setting
must not appear in any error message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from _hubkit import FlowAdapter, acme_config, no_network, use_local_adapters
from pydantic import ValidationError

from payhub_core import AdapterNotFound, ConfigurationError, GatewayConfig, Hub, HubConfig

CANARY = "CANARY-7f3a9c1e-do-not-print"

ACME_TOML = """
default = "cards"

[gateways.cards]
adapter = "acme.pay"
api_key = "file-key"
secret = "file-secret"

[gateways.acme-eu]
adapter = "acme.pay"
api_key = "eu-key"
secret = "eu-secret"
base_url = "https://eu.acme.example"
"""


def _hub(config: Any) -> Hub:
    return Hub.from_config(config, transport=httpx.MockTransport(no_network))


def _settings(hub: Hub, alias: str) -> Any:
    return hub._gateways[alias].settings  # the validated settings model of that gateway


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "payhub.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the mapping -----------------------------------------------------------------------


def test_a_mapping_configures_gateways_and_the_default() -> None:
    config = HubConfig.from_mapping(
        {"default": "b", "gateways": {"a": {"adapter": "x.a", "k": 1}, "b": {"adapter": "x.b"}}}
    )
    assert config.default == "b"
    assert config.gateways["a"] == GatewayConfig(alias="a", adapter="x.a", settings={"k": 1})
    assert config.resolve(None).alias == "b"
    assert config.resolve("a").adapter == "x.a"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ([("gateways", {})], "must be a mapping"),
        ({}, "no \\[gateways.<alias>\\] table"),
        ({"gateways": {}}, "no \\[gateways.<alias>\\] table"),
        ({"gateways": "acme"}, "no \\[gateways.<alias>\\] table"),
        ({"gateways": {"bad alias!": {"adapter": "acme.pay"}}}, "'bad alias!' must be 1-64"),
        ({"gateways": {"cards": "acme.pay"}}, "gateway 'cards': its configuration must be a table"),
        ({"gateways": {"cards": {"api_key": "k"}}}, "gateway 'cards': field 'adapter' is required"),
        ({"gateways": {"cards": {"adapter": ""}}}, "gateway 'cards': field 'adapter' is required"),
        (
            {"default": "nope", "gateways": {"a": {"adapter": "x"}, "b": {"adapter": "y"}}},
            "default gateway 'nope' is not configured; configured: a, b",
        ),
        (
            {
                "gateway": {"a": {"adapter": "x"}},
                "gateways": {"a": {"adapter": "x"}},
                "debug": True,
            },
            "unknown top-level configuration keys: debug, gateway",
        ),
    ],
)
def test_a_malformed_mapping_is_refused_with_a_reason(config: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        HubConfig.from_mapping(config)


def test_a_missing_adapter_field_names_the_gateway() -> None:
    with pytest.raises(ConfigurationError) as raised:
        _hub({"gateways": {"cards": {"api_key": CANARY}}})
    assert raised.value.gateway == "cards"
    assert CANARY not in str(raised.value)


def test_an_unknown_adapter_lists_the_installed_ones() -> None:
    with pytest.raises(AdapterNotFound) as raised:
        _hub({"gateways": {"cards": {"adapter": "acme.payy", "api_key": CANARY}}})
    assert raised.value.gateway == "cards"
    assert "acme.pay" in raised.value.installed
    assert "installed: " in str(raised.value)
    assert CANARY not in str(raised.value)


# -- validation by the adapter's Settings, at hub build --------------------------------


def test_the_adapters_settings_model_validates_the_gateway_table() -> None:
    with _hub(acme_config(api_key="k1", secret="s1", base_url="https://x.example")) as hub:
        settings = _settings(hub, "acme")
    assert settings.api_key.get_secret_value() == "k1"
    assert settings.base_url == "https://x.example"


def test_a_missing_setting_names_the_gateway_and_the_field() -> None:
    with pytest.raises(ConfigurationError) as raised:
        _hub({"gateways": {"cards": {"adapter": "acme.pay", "api_key": CANARY}}})
    message = str(raised.value)
    assert raised.value.gateway == "cards"
    assert "'cards'" in message
    assert "secret" in message
    assert "required" in message.lower()
    assert CANARY not in message


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"secret": {"nested": CANARY}}, "secret"),  # a SecretStr given a table
        ({"secret": "s", "max_retries": CANARY}, "max_retries"),  # not an int
        ({"secret": "s", "api_secret": CANARY}, "api_secret"),  # an unknown field
        ({"secret": "s", "retry_backoff": [CANARY]}, "retry_backoff"),
    ],
)
def test_a_malformed_setting_names_the_field_and_never_echoes_the_value(
    settings: dict[str, Any], field: str
) -> None:
    config = {"gateways": {"cards": {"adapter": "acme.pay", "api_key": CANARY, **settings}}}
    with pytest.raises(ConfigurationError) as raised:
        _hub(config)
    assert raised.value.gateway == "cards"
    assert field in str(raised.value)
    assert CANARY not in str(raised.value)
    assert CANARY not in repr(raised.value)
    assert raised.value.__cause__ is None  # pydantic's own error (which echoes input) is dropped


def test_gateway_settings_bounds_name_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    use_local_adapters(monkeypatch, local_flow=FlowAdapter)
    config = {"gateways": {"local": {"adapter": "local.flow", "timeout": -1, "api_key": CANARY}}}
    with pytest.raises(ConfigurationError, match="timeout") as raised:
        _hub(config)
    assert CANARY not in str(raised.value)


def test_every_gateway_is_validated_when_the_hub_is_built() -> None:
    config = acme_config()
    config["gateways"]["broken"] = {"adapter": "acme.pay", "api_key": "k"}  # no secret
    with pytest.raises(ConfigurationError) as raised:
        _hub(config)
    assert raised.value.gateway == "broken"


# -- TOML files ------------------------------------------------------------------------


def test_a_toml_file_configures_the_hub(tmp_path: Path) -> None:
    path = _write(tmp_path, ACME_TOML)
    with Hub.from_file(path, transport=httpx.MockTransport(no_network)) as hub:
        assert set(hub.gateways) == {"cards", "acme-eu"}
        assert hub.default_gateway == "cards"
        assert _settings(hub, "acme-eu").base_url == "https://eu.acme.example"
    with Hub.from_file(str(path), transport=httpx.MockTransport(no_network)) as hub:
        assert hub.default_gateway == "cards"


def test_invalid_toml_names_the_file_and_the_place_not_the_value(tmp_path: Path) -> None:
    path = _write(tmp_path, f'[gateways.cards]\nadapter = "acme.pay"\napi_key = "{CANARY}\n')
    with pytest.raises(ConfigurationError) as raised:
        Hub.from_file(path)
    message = str(raised.value)
    assert str(path) in message
    assert "not valid TOML" in message
    assert "line 3" in message
    assert CANARY not in message
    assert raised.value.__cause__ is None


def test_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        Hub.from_file(tmp_path / "nope.toml")


def test_an_unreadable_path_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        Hub.from_file(tmp_path)  # a directory


def test_unknown_top_level_keys_in_a_file_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, ACME_TOML + '\n[gateway.typo]\nadapter = "acme.pay"\n')
    with pytest.raises(ConfigurationError, match="unknown top-level configuration keys: gateway"):
        Hub.from_file(path)


# -- the environment -------------------------------------------------------------------


def test_from_env_reads_the_file_named_by_payhub_config(tmp_path: Path) -> None:
    env = {"PAYHUB_CONFIG": str(_write(tmp_path, ACME_TOML))}
    with Hub.from_env(env, transport=httpx.MockTransport(no_network)) as hub:
        assert hub.default_gateway == "cards"
        assert _settings(hub, "cards").api_key.get_secret_value() == "file-key"


def test_environment_variables_override_the_file(tmp_path: Path) -> None:
    env = {
        "PAYHUB_CONFIG": str(_write(tmp_path, ACME_TOML)),
        "PAYHUB_CARDS__API_KEY": "env-key",
        "PAYHUB_ACME_EU__SECRET": "env-eu-secret",  # alias acme-eu: upper case, '-' as '_'
        "PAYHUB_DEFAULT": "acme-eu",
    }
    with Hub.from_env(env, transport=httpx.MockTransport(no_network)) as hub:
        assert _settings(hub, "cards").api_key.get_secret_value() == "env-key"
        assert _settings(hub, "cards").secret.get_secret_value() == "file-secret"
        assert _settings(hub, "acme-eu").secret.get_secret_value() == "env-eu-secret"
        assert hub.default_gateway == "acme-eu"
        assert set(hub.gateways) == {"cards", "acme-eu"}


def test_a_gateway_may_be_defined_by_the_environment_alone() -> None:
    env = {
        "PAYHUB_SHOP__ADAPTER": "acme.pay",
        "PAYHUB_SHOP__API_KEY": "k",
        "PAYHUB_SHOP__SECRET": "s",
        "PAYHUB_SHOP__MAX_RETRIES": "0",
        "HOME": "/root",
        "PAYHUB_SANDBOX_URL": "http://127.0.0.1:9",  # not a gateway setting
    }
    with Hub.from_env(env, transport=httpx.MockTransport(no_network)) as hub:
        assert hub.gateways == ("shop",)
        assert hub.default_gateway == "shop"
        assert _settings(hub, "shop").max_retries == 0


def test_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYHUB_SHOP__ADAPTER", "acme.pay")
    monkeypatch.setenv("PAYHUB_SHOP__API_KEY", "k")
    monkeypatch.setenv("PAYHUB_SHOP__SECRET", "s")
    monkeypatch.delenv("PAYHUB_CONFIG", raising=False)
    monkeypatch.delenv("PAYHUB_DEFAULT", raising=False)
    with Hub.from_env(transport=httpx.MockTransport(no_network)) as hub:
        assert "shop" in hub.gateways


def test_an_env_only_gateway_without_its_secret_names_alias_and_field() -> None:
    env = {"PAYHUB_SHOP__ADAPTER": "acme.pay", "PAYHUB_SHOP__API_KEY": CANARY}
    with pytest.raises(ConfigurationError) as raised:
        Hub.from_env(env)
    assert raised.value.gateway == "shop"
    assert "secret" in str(raised.value)
    assert CANARY not in str(raised.value)


def test_an_env_only_gateway_without_an_adapter_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="gateway 'shop': field 'adapter' is required"):
        Hub.from_env({"PAYHUB_SHOP__API_KEY": CANARY})


def test_from_env_with_nothing_configured_explains_the_variables() -> None:
    with pytest.raises(ConfigurationError, match="PAYHUB_CONFIG"):
        Hub.from_env({"HOME": "/root"})


def test_payhub_default_naming_an_unknown_gateway_lists_the_configured_ones(tmp_path: Path) -> None:
    env = {"PAYHUB_CONFIG": str(_write(tmp_path, ACME_TOML)), "PAYHUB_DEFAULT": "paypal"}
    with pytest.raises(
        ConfigurationError, match="'paypal' is not configured; configured: acme-eu, cards"
    ):
        Hub.from_env(env)


def test_from_env_with_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        Hub.from_env({"PAYHUB_CONFIG": str(tmp_path / "missing.toml")})


@pytest.mark.parametrize(
    "text",
    [
        'gateways = "acme"\n',
        'gateways = ["acme"]\n',
        '[gateways]\ncards = "acme.pay"\n',
        "[gateways]\ncards = 3\n",
    ],
)
def test_from_env_with_a_malformed_file_is_a_configuration_error(tmp_path: Path, text: str) -> None:
    env = {"PAYHUB_CONFIG": str(_write(tmp_path, text)), "PAYHUB_CARDS__SECRET": CANARY}
    with pytest.raises(ConfigurationError) as raised:
        Hub.from_env(env)
    assert CANARY not in str(raised.value)


def test_an_environment_variable_matching_two_aliases_is_refused(tmp_path: Path) -> None:
    text = (
        '[gateways.acme-eu]\nadapter = "acme.pay"\napi_key = "a"\nsecret = "a"\n'
        '[gateways.acme_eu]\nadapter = "acme.pay"\napi_key = "b"\nsecret = "b"\n'
    )
    env = {"PAYHUB_CONFIG": str(_write(tmp_path, text)), "PAYHUB_ACME_EU__SECRET": CANARY}
    with pytest.raises(ConfigurationError, match="PAYHUB_ACME_EU__SECRET") as raised:
        Hub.from_env(env)
    assert "acme-eu" in str(raised.value)
    assert "acme_eu" in str(raised.value)
    assert CANARY not in str(raised.value)
    # without such a variable, the two gateways are fine
    with Hub.from_env(
        {"PAYHUB_CONFIG": env["PAYHUB_CONFIG"]}, transport=httpx.MockTransport(no_network)
    ) as hub:
        assert set(hub.gateways) == {"acme-eu", "acme_eu"}


@pytest.mark.parametrize(
    "base_url",
    ["api.example/", "ftp://api.example", "https://api.example/?key=1", "https://api.example/#x"],
)
def test_gateway_settings_refuse_a_base_url_that_is_not_a_plain_http_root(base_url: str) -> None:
    from payhub_core import GatewaySettings

    with pytest.raises(ValidationError):
        GatewaySettings(environment="production", base_url=base_url)


def test_gateway_settings_keep_the_base_url_without_its_trailing_slash() -> None:
    from payhub_core import GatewaySettings

    settings = GatewaySettings(environment="production", base_url="https://api.example/pay/")
    assert settings.base_url == "https://api.example/pay"


# -- one configuration story: the environment applies to every file-based constructor ----

QUICKSTART_TOML = """
default = "cards"

[gateways.cards]
adapter = "acme.pay"
# api_key and secret from PAYHUB_CARDS__API_KEY and PAYHUB_CARDS__SECRET
"""


def test_from_file_applies_environment_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The documented way of keeping secrets out of the file works with Hub.from_file.
    path = _write(tmp_path, QUICKSTART_TOML)
    monkeypatch.setenv("PAYHUB_CARDS__API_KEY", "env-key")
    monkeypatch.setenv("PAYHUB_CARDS__SECRET", CANARY)
    with Hub.from_file(path, transport=httpx.MockTransport(no_network)) as hub:
        assert _settings(hub, "cards").api_key.get_secret_value() == "env-key"
        assert _settings(hub, "cards").secret.get_secret_value() == CANARY


def test_from_file_takes_an_explicit_environment(tmp_path: Path) -> None:
    path = _write(tmp_path, ACME_TOML)
    env = {"PAYHUB_CARDS__API_KEY": "env-key", "PAYHUB_DEFAULT": "acme-eu"}
    with Hub.from_file(path, environ=env, transport=httpx.MockTransport(no_network)) as hub:
        assert hub.default_gateway == "acme-eu"
        assert _settings(hub, "cards").api_key.get_secret_value() == "env-key"
    config = HubConfig.from_file(path, environ={})  # the file alone
    assert config.default == "cards"
    assert config.gateways["cards"].settings["api_key"] == "file-key"


def test_from_file_and_from_env_build_the_same_configuration(tmp_path: Path) -> None:
    path = _write(tmp_path, ACME_TOML)
    env = {"PAYHUB_ACME_EU__SECRET": "s2", "PAYHUB_SHOP__ADAPTER": "acme.pay"}
    assert HubConfig.from_file(path, environ=env) == HubConfig.from_env(
        {**env, "PAYHUB_CONFIG": str(path)}
    )


def test_from_config_uses_the_mapping_exactly_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYHUB_ACME__API_KEY", "from-the-environment")
    monkeypatch.setenv("PAYHUB_DEFAULT", "nope")
    with _hub(acme_config(api_key="from-code")) as hub:
        assert _settings(hub, "acme").api_key.get_secret_value() == "from-code"


def test_the_ledger_and_web_tables_take_environment_variables(tmp_path: Path) -> None:
    path = _write(tmp_path, ACME_TOML + '\n[ledger]\nurl = "sqlite:///file.db"\n')
    env = {"PAYHUB_LEDGER__URL": "postgresql://u:pw@db/payhub", "PAYHUB_WEB__BASE_URL": "x"}
    config = HubConfig.from_file(path, environ=env)
    assert config.ledger == {"url": "postgresql://u:pw@db/payhub"}
    assert config.web == {"base_url": "x"}
    assert set(config.gateways) == {"cards", "acme-eu"}  # no gateway called "ledger"
    assert HubConfig.from_file(path, environ={}).web is None


def test_a_gateway_aliased_like_a_table_makes_its_variables_ambiguous(tmp_path: Path) -> None:
    path = _write(tmp_path, '[gateways.ledger]\nadapter = "acme.pay"\n')
    with pytest.raises(ConfigurationError, match="PAYHUB_LEDGER__SECRET could mean"):
        HubConfig.from_file(path, environ={"PAYHUB_LEDGER__SECRET": CANARY})
    assert set(HubConfig.from_file(path, environ={}).gateways) == {"ledger"}


# -- unusable files and values: a ConfigurationError, never another exception -------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'default = "\xff"\n', "is not UTF-8 text"),
        (b"\xef\xbb\xbf\xc3\x28", "is not UTF-8 text"),
        (b"a = " + b"[" * 100_000 + b"]" * 100_000, "nests arrays or tables too deeply"),
        (b"a = " + b"{b = " * 5000 + b"1" + b"}" * 5000, "nests arrays or tables too deeply"),
        (b"", "is empty"),
        (b"\n# a comment\n", "is empty"),
    ],
)
def test_an_unusable_file_is_a_configuration_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "payhub.toml"
    path.write_bytes(content)
    for build in (
        lambda: Hub.from_file(path),
        lambda: Hub.from_env({"PAYHUB_CONFIG": str(path)}),
    ):
        with pytest.raises(ConfigurationError, match=message) as raised:
            build()
        assert str(path) in str(raised.value)
        assert raised.value.__cause__ is None


def test_an_empty_file_with_gateways_from_the_environment_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "payhub.toml"
    path.write_bytes(b"")
    env = {
        "PAYHUB_SHOP__ADAPTER": "acme.pay",
        "PAYHUB_SHOP__API_KEY": "k",
        "PAYHUB_SHOP__SECRET": "s",
    }
    assert set(HubConfig.from_file(path, environ=env).gateways) == {"shop"}


@pytest.mark.parametrize("name", ["pay\0hub.toml", "\0"])
def test_a_nul_in_the_file_name_is_a_configuration_error(name: str) -> None:
    with pytest.raises(ConfigurationError, match="NUL"):
        Hub.from_env({"PAYHUB_CONFIG": name})
    with pytest.raises(ConfigurationError, match="NUL"):
        Hub.from_file(name)


@pytest.mark.parametrize(
    "data",
    [
        {"default": ["cards"], "gateways": {"cards": {"adapter": "acme.pay"}}},
        {"default": {"a": 1}, "gateways": {"cards": {"adapter": "acme.pay"}}},
        {1: "x", "gateways": {"cards": {"adapter": "acme.pay"}}},
        {("a",): "x", "b": 2},
    ],
)
def test_odd_mappings_are_configuration_errors(data: Any) -> None:
    with pytest.raises(ConfigurationError):
        HubConfig.from_mapping(data)


def test_resolving_an_alias_that_is_not_a_string_is_a_configuration_error() -> None:
    config = HubConfig.from_mapping({"gateways": {"cards": {"adapter": "acme.pay"}}})
    with pytest.raises(ConfigurationError, match="not configured"):
        config.resolve(["cards"])  # type: ignore[arg-type]
