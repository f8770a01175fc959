"""Typed error or success, nothing else.

Every public constructor (money, the models, the configuration, the hub) and every
``payhub`` command is fed arbitrary input. Each must either succeed or raise a
``PayhubError`` (or a ``TypeError`` where that is the documented answer: a float amount,
arithmetic between money and something else); the command must return one of its
documented exit codes. Any other exception (``UnicodeDecodeError``, ``RecursionError``,
``decimal.InvalidOperation``, ``OverflowError``, a pydantic ``ValidationError``...) is a bug
this test exists to find.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payhub_core import (
    AsyncHub,
    Callback,
    Capabilities,
    Card,
    Checkout,
    Customer,
    Hub,
    HubConfig,
    Invoice,
    Money,
    Netbanking,
    OtpChallenge,
    OtpCode,
    PayhubError,
    PaymentResult,
    Redirect,
    Upi,
)
from payhub_core.cli import COMMANDS, build_parser, main

TYPED = (PayhubError,)
EXIT_CODES = {0, 1, 2, 3}

# -- arbitrary values ------------------------------------------------------------------------

numbers_as_text = st.from_regex(
    r"-?[0-9]{0,40}(\.[0-9]{0,40})?([eE][+-]?[0-9]{1,8})?", fullmatch=True
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.binary(max_size=30),
    numbers_as_text,
    st.sampled_from(["LYD", "USD", "INR", "JPY", "usd", "XXX", "", "\x00", "ا", "25.50"]),
)
junk = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
money_or_junk = st.one_of(
    st.builds(Money, st.sampled_from(["1", "25.50", "0", "-3"]), st.sampled_from(["LYD", "USD"])),
    junk,
)


def _typed_or_success(build: Callable[[], Any], *, type_error: bool = False) -> None:
    allowed: tuple[type[BaseException], ...] = TYPED + ((TypeError,) if type_error else ())
    try:
        value = build()
    except allowed:
        return
    # what was built must be usable: shown and compared without raising
    repr(value)
    str(value)
    assert value == value


# -- money -----------------------------------------------------------------------------------


@given(amount=junk, currency=junk)
def test_money_constructors(amount: Any, currency: Any) -> None:
    # A float amount is refused with FloatAmountError, a PayhubError that is also a TypeError.
    _typed_or_success(lambda: Money(amount, currency))
    _typed_or_success(lambda: Money.from_minor(amount, currency))


@given(
    amount=st.one_of(numbers_as_text, st.integers(min_value=-(10**40), max_value=10**40)),
    currency=st.sampled_from(["LYD", "USD", "JPY", "INR"]),
    places=st.one_of(st.none(), st.integers(min_value=-5, max_value=200), junk),
    other=money_or_junk,
)
def test_money_operations(amount: Any, currency: str, places: Any, other: Any) -> None:
    try:
        money = Money(amount, currency)
    except PayhubError:
        return
    _typed_or_success(lambda: money.format_amount(places))
    _typed_or_success(lambda: money.minor_units)
    # arithmetic and ordering between money and anything else: TypeError, as for numbers
    _typed_or_success(lambda: money + other, type_error=True)
    _typed_or_success(lambda: money - other, type_error=True)
    _typed_or_success(lambda: money * other, type_error=True)
    _typed_or_success(lambda: money < other, type_error=True)
    _typed_or_success(lambda: -money)


# -- models ----------------------------------------------------------------------------------

MODELS: dict[type[Any], tuple[str, ...]] = {
    Invoice: (
        "number",
        "amount",
        "return_url",
        "callback_url",
        "customer",
        "lang",
        "description",
        "metadata",
        "capture",
        "payment_method",
    ),
    Customer: ("mobile", "email", "first_name", "last_name", "birth_year", "ip"),
    Callback: ("method", "query", "headers", "body"),
    OtpCode: ("reference", "code", "invoice"),
    Checkout: ("gateway", "reference", "action", "status", "raw"),
    Redirect: ("url",),
    OtpChallenge: ("reference", "message"),
    PaymentResult: (
        "gateway",
        "status",
        "invoice_number",
        "amount",
        "reference",
        "transaction_id",
        "raw",
    ),
    Capabilities: ("currencies", "operations", "flows", "amount_decimals"),
    Card: ("number", "expiry_month", "expiry_year", "cvv", "holder_name"),
    Upi: ("vpa",),
    Netbanking: ("pay_code",),
}


@st.composite
def model_arguments(draw: st.DrawFn) -> tuple[type[Any], dict[str, Any]]:
    model = draw(st.sampled_from(sorted(MODELS, key=lambda cls: cls.__name__)))
    fields = MODELS[model]
    chosen = draw(st.lists(st.sampled_from(fields), unique=True, max_size=len(fields)))
    arguments = {name: draw(money_or_junk) for name in chosen}
    if draw(st.booleans()):
        arguments[draw(st.text(max_size=6))] = draw(junk)  # an unknown field
    return model, arguments


@given(model_arguments())
def test_model_constructors(case: tuple[type[Any], dict[str, Any]]) -> None:
    model, arguments = case
    _typed_or_success(lambda: model(**arguments))


# -- configuration and hub ---------------------------------------------------------------------

ADAPTERS = ["acme.pay", "plutu.localbankcards", "plutu.sadad", "plural.checkout", "nope.x", ""]
config_values = st.one_of(junk, st.sampled_from(["sandbox", "production", "uat", "x" * 40]))
gateway_table = st.one_of(
    st.fixed_dictionaries(
        {"adapter": st.sampled_from(ADAPTERS)},
        optional={
            "environment": config_values,
            "api_key": config_values,
            "access_token": config_values,
            "secret_key": config_values,
            "secret": config_values,
            "client_id": config_values,
            "client_secret": config_values,
            "base_url": st.one_of(config_values, st.just("http://127.0.0.1:9")),
            "timeout": config_values,
            "max_retries": config_values,
        },
    ),
    junk,
)
configurations = st.one_of(
    st.fixed_dictionaries(
        {"gateways": st.dictionaries(st.text(max_size=8), gateway_table, max_size=3)},
        optional={"default": junk, "ledger": junk, "web": junk},
    ),
    st.dictionaries(st.one_of(st.text(max_size=8), st.integers(), st.none()), junk, max_size=3),
    junk,
)


def _no_network(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("no network in the fuzz test", request=request)


@given(configurations)
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_configuration_and_hub_constructors(data: Any) -> None:
    _typed_or_success(lambda: HubConfig.from_mapping(data))

    def build() -> Hub:
        hub = Hub.from_config(data, transport=httpx.MockTransport(_no_network))
        hub.close()
        return hub

    def build_async() -> AsyncHub:
        hub = AsyncHub.from_config(data, transport=httpx.MockTransport(_no_network))
        asyncio.run(hub.aclose())
        return hub

    _typed_or_success(build)
    _typed_or_success(build_async)


@given(environ=st.dictionaries(st.text(max_size=30), st.text(max_size=30), max_size=5))
def test_hub_from_env(environ: dict[str, str]) -> None:
    _typed_or_success(lambda: HubConfig.from_env(environ))

    def build() -> Hub:
        hub = Hub.from_env(environ, transport=httpx.MockTransport(_no_network))
        hub.close()
        return hub

    _typed_or_success(build)


@pytest.fixture(scope="module")
def fuzz_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@given(
    content=st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.sampled_from(
            [
                b"[gateways.cards]\nadapter = 'acme.pay'\n",
                b"a = " + b"[" * 3000 + b"]" * 3000,
                b"a = " + b"{b = " * 3000 + b"1" + b"}" * 3000,
                b"\xff\xfe",
            ]
        ),
    ),
    environ=st.dictionaries(
        st.sampled_from(
            ["PAYHUB_DEFAULT", "PAYHUB_CARDS__API_KEY", "PAYHUB_LEDGER__URL", "PAYHUB_X__ADAPTER"]
        ),
        st.text(max_size=20),
    ),
)
def test_hub_from_a_file_of_arbitrary_bytes(
    fuzz_directory: Path, content: bytes, environ: dict[str, str]
) -> None:
    path = fuzz_directory / "payhub.toml"
    path.write_bytes(content)
    _typed_or_success(lambda: HubConfig.from_file(path, environ=environ))
    _typed_or_success(lambda: HubConfig.from_env({**environ, "PAYHUB_CONFIG": str(path)}))


@given(name=st.text(max_size=20))
def test_hub_from_a_file_name(name: str) -> None:
    _typed_or_success(lambda: HubConfig.from_file(name, environ={}))


# -- verifying arbitrary callbacks -----------------------------------------------------------

SECRET = "sk_ac63978fe4bc6defb55045fe84492021d1e87555"


@pytest.fixture(scope="module")
def verifying_hub() -> Iterator[Hub]:
    plutu = {
        "environment": "sandbox",
        "base_url": "http://127.0.0.1:9",
        "api_key": "fuzz-api-key",
        "access_token": "fuzz-access-token",
        "secret_key": SECRET,
        "max_retries": 0,
    }
    config = {
        "gateways": {
            "cards": {"adapter": "plutu.localbankcards", **plutu},
            "tlync": {"adapter": "plutu.tlync", **plutu},
            "acme": {"adapter": "acme.pay", "api_key": "fuzz-api-key", "secret": SECRET},
        }
    }
    with Hub.from_config(config, transport=httpx.MockTransport(_no_network)) as hub:
        yield hub


@given(
    gateway=st.sampled_from(["cards", "tlync", "acme"]),
    method=st.sampled_from(["GET", "POST"]),
    query=st.one_of(
        st.text(max_size=80),
        st.lists(
            st.tuples(
                st.sampled_from(["gateway", "approved", "amount", "invoice_no", "hashed", "x"]),
                st.text(max_size=12),
            ),
            max_size=6,
        ).map(lambda pairs: "&".join(f"{key}={value}" for key, value in pairs)),
    ),
    body=st.one_of(st.binary(max_size=80), st.just(b'{"approved": 1.0000000000000001}')),
    headers=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3),
)
# A test's own suppress_health_check replaces the profile's list: too_slow (a timing check
# that a loaded CI machine trips) is named again here.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_verifying_arbitrary_callbacks(
    verifying_hub: Hub,
    gateway: str,
    method: str,
    query: str,
    body: bytes,
    headers: dict[str, str],
) -> None:
    try:
        callback = Callback(method=method, query=query, headers=headers, body=body)
    except PayhubError:
        return
    try:
        result = verifying_hub.verify(callback, gateway=gateway)
    except PayhubError:
        return
    # arbitrary input verifying is possible only with a genuine signature: never here
    raise AssertionError(f"an arbitrary callback verified: {result!r}")


# -- every command -----------------------------------------------------------------------------


def _flags() -> dict[str, list[str]]:
    """Every command's options, read from the parser itself: a command added later is
    fuzzed without anyone remembering to list it here."""
    parser = build_parser()
    [subparsers] = [
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    ]
    return {
        name: sorted(
            option
            for action in command._actions
            for option in action.option_strings
            if option not in ("-h", "--help")
        )
        for name, command in subparsers.choices.items()
    }


FLAGS = _flags()
VALUES = [
    "cards",
    "wallet",
    "LYD",
    "USD",
    "25.50",
    "5",
    "-1",
    "99999",
    "0",
    "1e9999",
    "payhub.toml",
    "missing.toml",
    ".",
    "127.0.0.1",
    "0.0.0.0",  # noqa: S104
    "GET",
    "POST",
    "Name: value",
    "bad",
    "https://shop.example/r",
    "-",
]
CONFIG = """
default = "cards"
[gateways.cards]
adapter = "plutu.localbankcards"
environment = "sandbox"
base_url = "http://127.0.0.1:9"
api_key = "fuzz-api-key"
access_token = "fuzz-access-token"
secret_key = "sk_ac63978fe4bc6defb55045fe84492021d1e87555"
max_retries = 0
[gateways.wallet]
adapter = "plutu.sadad"
environment = "sandbox"
base_url = "http://127.0.0.1:9"
api_key = "fuzz-api-key"
access_token = "fuzz-access-token"
max_retries = 0
"""


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(FLAGS)))
    words = st.one_of(
        st.sampled_from([*FLAGS[command], "--json", "--nope"]),
        st.sampled_from(VALUES),
        # no path that leaves the working directory: some commands write files
        st.text(max_size=12).filter(
            lambda word: (
                word not in ("-h", "--help", "--version")
                and "/" not in word
                and ".." not in word
                and not word.startswith("~")
            )
        ),
    )
    return [command, *draw(st.lists(words, max_size=8))]


@pytest.fixture(scope="module")
def command_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A working directory with a payhub.toml whose gateways answer nothing, and no PAYHUB_
    variables; the sandbox and the demo are not started for real (their own tests do)."""
    directory = tmp_path_factory.mktemp("fuzz-cli")
    (directory / "payhub.toml").write_text(CONFIG, encoding="utf-8")
    saved_cwd = os.getcwd()
    saved_env = {key: value for key, value in os.environ.items() if key.startswith("PAYHUB_")}
    mp = pytest.MonkeyPatch()
    for key in saved_env:
        mp.delenv(key)
    mp.setattr("payhub_core.sandbox._server.SandboxServer.serve_forever", lambda self, **_: None)
    mp.setattr("payhub_core.cli._commands._announce", lambda *args: None)
    mp.setattr("payhub_core.cli._demo.run_demo", lambda **_: 0)
    os.chdir(directory)
    try:
        yield directory
    finally:
        os.chdir(saved_cwd)
        mp.undo()


def test_the_fuzzed_commands_are_all_the_commands() -> None:
    assert set(FLAGS) == set(COMMANDS)
    assert {"--expect-amount", "--otp-code", "--json"} <= set(FLAGS["verify"])


@given(command_lines())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_every_command_returns_a_documented_exit_code(
    command_directory: Path, argv: list[str]
) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code in EXIT_CODES, (argv, code, err.getvalue())
    assert "Traceback" not in err.getvalue()
    if code != 0:  # an error says so: one line on stderr, or a JSON error on stdout
        assert err.getvalue().count("\n") >= 1 or '"error": {' in out.getvalue()
    assert "fuzz-api-key" not in out.getvalue() + err.getvalue()
    assert "fuzz-access-token" not in out.getvalue() + err.getvalue()
