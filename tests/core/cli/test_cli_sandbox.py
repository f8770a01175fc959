"""The sandbox is not exposed by mistake: it listens on loopback unless told otherwise (with
a warning), and it sends callbacks and webhooks to loopback hosts unless told otherwise."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

import httpx
import pytest
from cli_support import PAYHUB, clean_environ, run

from payhub_core import ConfigurationError, Customer, Hub, Invoice, Money
from payhub_core.demo import DemoEnvironment, ScriptedBrowser
from payhub_core.sandbox import Emulator, Notifier, SandboxServer
from payhub_core.sandbox._notify import is_loopback

plutu_sandbox = pytest.importorskip("payhub_plutu.sandbox")

CAPSYS = pytest.CaptureFixture[str]


# -- where it listens ----------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "", "example.com"])  # noqa: S104
def test_a_host_that_is_not_loopback_is_refused(capsys: CAPSYS, host: str) -> None:
    ran = run(capsys, "sandbox", "--host", host, "--port", "0")
    assert ran.code == 2
    assert "--allow-remote" in ran.err
    assert "no authentication" in ran.err
    assert ran.err.count("\n") == 1
    with pytest.raises(ConfigurationError, match="allow_remote"):
        SandboxServer([], host=host, port=0)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2"])
def test_loopback_hosts_need_no_flag(host: str) -> None:
    with SandboxServer([], host=host, port=0) as server:
        assert server.url.startswith(f"http://{host}:")


def _sandbox(tmp_path: Path, *options: str) -> subprocess.Popen[str]:
    """The real ``payhub sandbox`` on a free port, its output captured as text."""
    return subprocess.Popen(  # noqa: S603 - our own console script
        [str(PAYHUB), "sandbox", "--port", "0", *options],
        cwd=tmp_path,
        env=clean_environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_remote_host_is_served_when_allowed_explicitly() -> None:
    with SandboxServer([], host="0.0.0.0", port=0, allow_remote=True) as server:  # noqa: S104
        assert server.url.startswith("http://0.0.0.0:")


def test_the_real_command_warns_when_remote_hosts_are_allowed(tmp_path: Path) -> None:
    process = _sandbox(tmp_path, "--host", "0.0.0.0", "--allow-remote")  # noqa: S104
    try:
        assert process.stdout is not None
        lines = iter(process.stdout.readline, "")
        # where it listens (after uvicorn's log of the requests that found it out)
        line = next(line for line in lines if not line.startswith("INFO:"))
        assert line.startswith("payhub sandbox listening on http://0.0.0.0:")
    finally:
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    assert "WARNING" in err
    assert "no authentication" in err
    assert "Traceback" not in err


def test_the_real_command_prints_settings_a_merchant_can_paste(tmp_path: Path) -> None:
    """What ``payhub sandbox`` prints before it waits: where it listens, each emulator in a
    few lines that fit 100 columns, and for each adapter a ``[gateways.*]`` table of
    payhub.toml with the sandbox's public credentials; the full details (scenarios, test
    cards) stay at each emulator's ``/_sandbox`` URL rather than in a screenful of JSON."""
    process = _sandbox(tmp_path)
    try:
        assert process.stdout is not None
        lines: list[str] = []
        for line in iter(process.stdout.readline, ""):
            lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl+C"):
                break
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    text = "\n".join(lines)
    assert lines[0].startswith("payhub sandbox listening on http://127.0.0.1:")
    url = lines[0].split()[4]
    assert not [line for line in lines if line.startswith("INFO:")]  # its own start-up probes
    assert max(len(line) for line in lines) <= 100
    assert "{" not in text  # no JSON dump
    assert f"{url}/plutu/_sandbox" in text
    config = text.split("[gateways.", 1)[1]
    toml = tomllib.loads("[gateways." + config.rsplit("\n\n", 1)[0])
    sadad = toml["gateways"]["plutu_sadad"]
    assert sadad["adapter"] == "plutu.sadad"
    assert sadad["environment"] == "sandbox"
    assert sadad["api_key"] == plutu_sandbox.API_KEY
    assert toml["gateways"]["plutu_localbankcards"]["secret_key"] == plutu_sandbox.SECRET_KEY
    assert f"PAYHUB_SANDBOX_URL={url}" in text


def test_the_real_command_in_json_is_one_document_with_every_emulators_details(
    tmp_path: Path,
) -> None:
    process = _sandbox(tmp_path, "--json")
    try:
        assert process.stdout is not None
        text = ""
        for line in iter(process.stdout.readline, ""):
            text += line
            if line == "}\n":  # the document's last line (print_json indents the rest)
                break
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    document = json.loads(text)
    assert document["url"].startswith("http://127.0.0.1:")
    assert document["emulators"]["plutu"]["api_key"] == plutu_sandbox.API_KEY
    assert document["emulators"]["plutu"]["scenarios"]


@pytest.mark.parametrize("port", ["99999", "-1", "65536", "http"])
def test_a_port_out_of_range_exits_2(capsys: CAPSYS, port: str) -> None:
    ran = run(capsys, "sandbox", "--port", port)
    assert ran.code == 2
    assert ran.err.startswith("payhub sandbox: bad arguments: argument --port")


def test_without_the_sandbox_extra_it_says_what_to_install(
    capsys: CAPSYS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # "import uvicorn" now fails
    for command in ("sandbox", "demo"):
        ran = run(capsys, command)
        assert ran.code == 3
        assert "pip install 'payhub-core[sandbox]'" in ran.err
        assert ran.err.count("\n") == 1
        ran = run(capsys, command, "--json")
        assert ran.json()["error"]["exit_code"] == 3


# -- where it sends callbacks and webhooks -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allowed", "refused"),
    [
        ("http://127.0.0.1:9/cb", (), False),
        ("http://localhost:9/cb", (), False),
        ("http://[::1]:9/cb", (), False),
        ("http://[::ffff:127.0.0.1]:9/cb", (), False),
        ("http://shop.example/cb", (), True),
        ("http://10.0.0.5/cb", (), True),
        ("http://169.254.169.254/latest/meta-data", (), True),
        ("http://shop.example/cb", ("shop.example",), False),
        ("http://SHOP.example./cb", ("shop.example",), False),
        ("http://other.example/cb", ("shop.example",), True),
        ("http://other.example/cb", ("*",), False),
        ("ftp://127.0.0.1/cb", ("*",), True),
        ("http://[::1/cb", ("*",), True),
    ],
)
def test_notification_targets(url: str, allowed: tuple[str, ...], refused: bool) -> None:
    assert (Notifier(allowed_hosts=allowed).refusal(url) is not None) is refused


def test_is_loopback() -> None:
    assert is_loopback("127.8.9.10")
    assert is_loopback("LOCALHOST")
    assert is_loopback("[::1]")
    assert not is_loopback("0.0.0.0")  # noqa: S104
    assert not is_loopback("localhost.example.com")


class _Capture:
    """Keeps the Plutu emulator's app to read its notifier's deliveries."""

    def __init__(self) -> None:
        self.app: Any = None

    def create_app(self, base_url: str) -> Any:
        self.app = plutu_sandbox.create_app(base_url)
        return self.app


def _tlync_payment(env: DemoEnvironment, callback_url: str) -> None:
    """A T-Lync payment the customer approves; the emulator then calls ``callback_url``."""
    settings = plutu_sandbox.sandbox_settings(f"{env.url}/plutu")
    with Hub({"gateways": {"tlync": {"adapter": "plutu.tlync", **settings}}}) as hub:
        number = "INV-NOTIFY-1"
        checkout = hub.initiate(
            Invoice(
                number=number,
                amount=Money("10.00", "LYD"),
                return_url=f"{env.merchant_url}/return/{number}",
                callback_url=callback_url,
                customer=Customer(mobile=plutu_sandbox.TEST_MOBILE),
            )
        )
    browser = ScriptedBrowser(env.merchant_url)
    try:
        browser.press(checkout.action.url, "approve")  # type: ignore[union-attr]
    finally:
        browser.close()


def test_a_callback_to_a_host_that_is_not_loopback_is_not_sent() -> None:
    capture = _Capture()
    emulator = Emulator(name="plutu", create_app=capture.create_app)
    with DemoEnvironment([emulator]) as env:
        _tlync_payment(env, "http://merchant.example/payhub/callback")
        [delivery] = capture.app.state.plutu.notifier.deliveries
    assert delivery.attempts == 0
    assert delivery.error is not None
    assert delivery.error.startswith("refused")
    assert "--notify-host merchant.example" in delivery.error


class _Receiver:
    """An HTTP server on every interface that records the paths POSTed to it."""

    def __init__(self) -> None:
        received = self.received = threading.Event()
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                paths.append(self.path)
                self.send_response(200)
                self.end_headers()
                received.set()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("0.0.0.0", 0), Handler)  # noqa: S104
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    receiver = _Receiver()
    yield receiver
    receiver.close()


def test_a_host_allowed_by_name_receives_the_callback(receiver: _Receiver) -> None:
    # This machine by its host name: not a loopback name, so allowed only by notify_hosts.
    hostname = socket.gethostname()
    try:
        socket.getaddrinfo(hostname, receiver.port)
    except OSError:
        pytest.skip("this machine's host name does not resolve")
    if is_loopback(hostname):
        pytest.skip("this machine's host name is a loopback name")
    capture = _Capture()
    emulator = Emulator(name="plutu", create_app=capture.create_app)
    with DemoEnvironment([emulator], notify_hosts=[hostname]) as env:
        _tlync_payment(env, f"http://{hostname}:{receiver.port}/payhub/callback")
        assert receiver.received.wait(10)
        [delivery] = capture.app.state.plutu.notifier.deliveries
    assert receiver.paths == ["/payhub/callback"]
    assert delivery.error is None
    assert delivery.status == 200


def test_a_webhook_target_that_is_not_loopback_is_refused_when_it_is_set() -> None:
    pytest.importorskip("payhub_plural.sandbox")
    target = {"webhook_url": "http://shop.example/payhub/webhook"}
    with SandboxServer(port=0) as server:
        refused = httpx.put(f"{server.url}/plural/_sandbox/config", json=target)
        assert refused.status_code == 400
        assert "--notify-host shop.example" in refused.text
        local = {"webhook_url": "http://127.0.0.1:9/payhub/webhook"}
        assert httpx.put(f"{server.url}/plural/_sandbox/config", json=local).status_code == 200
    with SandboxServer(port=0, notify_hosts=["shop.example"]) as server:
        allowed = httpx.put(f"{server.url}/plural/_sandbox/config", json=target)
        assert allowed.status_code == 200
        assert allowed.json()["webhook_url"] == target["webhook_url"]


@pytest.mark.parametrize("url", ["http://[::1/hooks", "http://[nope]/hooks", "ftp://127.0.0.1/"])
def test_a_malformed_webhook_target_is_a_400_not_a_500(url: str) -> None:
    pytest.importorskip("payhub_plural.sandbox")
    with SandboxServer(port=0) as server:
        answer = httpx.put(f"{server.url}/plural/_sandbox/config", json={"webhook_url": url})
    assert answer.status_code == 400
