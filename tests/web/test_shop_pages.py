"""The example shop's pages as a customer meets them, over real HTTP (uvicorn): an order
number nobody has is a 404 page, not a server error; a wrong wallet code is answered in
the customer's words, never with the gateway's internal error; and ``python -m
examples.shop`` without its web packages says what to install instead of a traceback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from web_support import Uvicorn, bound_socket

from payhub_core.demo import DemoEnvironment

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shop_url(sandbox: DemoEnvironment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from examples.shop.setup import build_shop

    db = tmp_path_factory.mktemp("shop-pages") / "shop.sqlite3"
    with ExitStack() as cleanup:
        sock, url = bound_socket()
        cleanup.callback(sock.close)
        app, hub, _fulfilment = build_shop(sandbox.url, url, db)
        server = Uvicorn(app, sock, hub.aclose)
        server.start()
        cleanup.callback(server.stop)
        yield url


@pytest.mark.parametrize("path", ["/orders/SHOP-NOSUCH", "/otp/SHOP-NOSUCH"])
def test_an_unknown_order_is_a_not_found_page(shop_url: str, path: str) -> None:
    response = httpx.get(shop_url + path, timeout=10)
    assert response.status_code == 404
    assert "SHOP-NOSUCH" in response.text
    assert "no order" in response.text.lower()


def test_a_wrong_wallet_code_is_told_in_the_customers_words(shop_url: str) -> None:
    with httpx.Client(base_url=shop_url, timeout=20) as client:
        bought = client.post("/buy", data={"gateway": "sadad"})
        assert bought.status_code == 303
        otp_page = bought.headers["location"]
        assert otp_page.startswith("/otp/")

        wrong = client.post(otp_page, data={"code": "999999"})
        assert wrong.status_code == 400
        assert 'id="otp-error"' in wrong.text
        assert "code was not accepted" in wrong.text
        # the gateway's own message is for the merchant's log, not the customer's page
        for internal in ("Plutu", "HTTP 400", "INVLIAD_OTP", "Sadad confirm"):
            assert internal not in wrong.text

        order = wrong.text.split("/otp/")[1].split('"')[0]
        assert client.get(f"/orders/{order}").status_code == 200


def test_without_fastapi_the_shop_says_what_to_install() -> None:
    # sys.modules[name] = None makes `import name` fail as if it were not installed
    script = (
        "import runpy, sys; sys.modules['fastapi'] = None; "
        "runpy.run_module('examples.shop', run_name='__main__')"
    )
    ran = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 3
    assert "Traceback" not in ran.stderr
    assert "pip install -r examples/shop/requirements.txt" in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1


def test_the_product_page_shows_each_price_as_the_order_page_will(shop_url: str) -> None:
    # LYD has three decimals: the lamp costs 40.000 LYD on both pages, not 40.00 then 40.000
    page = httpx.get(shop_url + "/", timeout=10).text
    assert '<span class="price">40.000 LYD</span>' in page
    assert '<span class="price">19.99 USD</span>' in page
    assert "40.00 LYD" not in page
