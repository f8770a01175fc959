"""Settings validation, capabilities, and discovery through the entry points."""

from __future__ import annotations

from typing import Any

import pytest
from plural_support import CLIENT_SECRET, config

from payhub_core import (
    OPERATIONS,
    AsyncHub,
    Capabilities,
    ConfigurationError,
    Hub,
    Money,
    available_adapters,
)
from payhub_plural import (
    CAPABILITIES,
    HostedCheckoutAdapter,
    PluralSettings,
    SeamlessCheckoutAdapter,
)

EXPECTED = Capabilities(
    currencies=frozenset({"INR"}),
    operations=frozenset(OPERATIONS),
    flows=frozenset({"redirect", "webhook"}),
    amount_decimals=2,
    min_amount=(Money("1.00", "INR"),),
    max_amount=(Money("1000000.00", "INR"),),
)


@pytest.mark.parametrize("adapter", ["plural.checkout", "plural.seamless"])
def test_capabilities_without_network(adapter: str) -> None:
    with Hub.from_config(config(adapter)) as hub:
        assert hub.capabilities() == EXPECTED
    assert CAPABILITIES == EXPECTED


def test_entry_points() -> None:
    found = {info.name: info for info in available_adapters()}
    for name, cls in (
        ("plural.checkout", HostedCheckoutAdapter),
        ("plural.seamless", SeamlessCheckoutAdapter),
    ):
        info = found[name]
        assert info.ok, info.error
        assert info.distribution == "payhub-plural"
        assert info.target == f"payhub_plural:{cls.__name__}"
        assert info.capabilities == EXPECTED
        assert cls.Settings is PluralSettings


@pytest.mark.anyio
async def test_async_hub_builds_both() -> None:
    async with AsyncHub.from_config(
        {
            "gateways": {
                "a": config("plural.checkout")["gateways"]["india"],
                "b": config("plural.seamless")["gateways"]["india"],
            }
        }
    ) as hub:
        assert hub.gateways == ("a", "b")


def test_defaults() -> None:
    settings = PluralSettings(environment="production", client_id="id", client_secret=CLIENT_SECRET)
    assert settings.root() == "https://api.pluralpay.in"
    assert settings.webhook_key() == CLIENT_SECRET.encode()
    assert settings.return_key() is None
    assert settings.webhook_tolerance == 300
    assert settings.confirm_with_get_order is True
    assert settings.timeout == 30.0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"environment": "test"}, "environment"),
        ({"client_id": ""}, "client_id"),
        ({"client_secret": ""}, "client_secret"),
        ({"client_secret": None}, "client_secret"),
        ({"secret_key": "abc"}, "secret_key"),
        ({"secret_key": "a1 b2"}, "secret_key"),
        ({"secret_key": "zz"}, "secret_key"),
        ({"webhook_tolerance": 0}, "webhook_tolerance"),
        ({"base_url": "ftp://x.example"}, "base_url"),
        ({"base_url": "https://x.example/api/pay/v1"}, "base_url"),
        ({"base_url": "https://x.example/?a=1"}, "base_url"),
        ({"secret_key": None, "confirm_with_get_order": False}, "secret_key"),
        ({"webhook_secret_is_base64": True}, "Base64"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_settings(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Hub.from_config(config(**overrides))
    assert field in str(caught.value)
    assert caught.value.gateway == "india"


def test_base64_webhook_secret() -> None:
    settings = PluralSettings(
        environment="uat",
        client_id="id",
        client_secret=CLIENT_SECRET,
        webhook_secret="whsec_YWJjMTIzNA==",
        webhook_secret_is_base64=True,
    )
    assert settings.webhook_key() == b"abc1234"


def test_secret_key_is_hex_decoded() -> None:
    settings = PluralSettings(
        environment="uat", client_id="id", client_secret=CLIENT_SECRET, secret_key="A1B2c3d4"
    )
    assert settings.return_key() == bytes([0xA1, 0xB2, 0xC3, 0xD4])
