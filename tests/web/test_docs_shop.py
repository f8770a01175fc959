"""The complete FastAPI shop of docs/web/fastapi.md (and the README) is under 40 lines and
takes a real sandbox payment when served by uvicorn, exactly as written."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from web_support import Uvicorn, bound_socket

from payhub_core.demo import DemoEnvironment, ScriptedBrowser

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "web" / "fastapi.md"


def _blocks(language: str, page: Path = PAGE) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


def test_the_readme_shows_this_exact_shop() -> None:
    readme = ROOT / "README.md"
    assert _blocks("toml")[0] in _blocks("toml", readme)
    assert _blocks("python")[0] in _blocks("python", readme)
    lines = len(_blocks("python")[0].strip().splitlines())
    assert f"## A whole shop in {lines} lines" in readme.read_text(encoding="utf-8")


def test_the_shop_is_under_40_lines() -> None:
    shop = _blocks("python")[0]
    assert len(shop.strip().splitlines()) < 40


def test_the_shop_takes_a_sandbox_payment_over_real_http(
    sandbox: DemoEnvironment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sock, url = bound_socket()
    toml = _blocks("toml")[0].replace("http://127.0.0.1:8000", url)
    assert url in toml
    (tmp_path / "payhub.toml").write_text(toml, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAYHUB_SANDBOX_URL", sandbox.url)
    namespace: dict[str, object] = {"__name__": "shop"}
    exec(compile(_blocks("python")[0], str(PAGE), "exec"), namespace)  # noqa: S102 - the doc is the test

    server = Uvicorn(namespace["app"], sock, namespace["hub"].aclose)  # type: ignore[attr-defined]
    server.start()
    try:
        with httpx.Client(timeout=15, follow_redirects=False) as client:
            bought = client.post(f"{url}/buy")
            assert bought.status_code == 303
            browser = ScriptedBrowser(url)
            try:
                back = browser.press(bought.headers["location"], "approve")
            finally:
                browser.close()
            assert back.status_code == 303
            number = back.headers["location"].rsplit("/", 1)[-1]
            assert back.headers["location"] == f"{url}/orders/{number}"
            order = client.get(back.headers["location"])
            assert order.status_code == 200
            assert f"Order {number}: paid" in order.text
            # an order number nobody has (a typo, a stale link) is not found, not a crash
            assert client.get(f"{url}/orders/INV-NOSUCH").status_code == 404
    finally:
        server.stop()
    assert f"ship order {number}" in capsys.readouterr().out
