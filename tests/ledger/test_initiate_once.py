"""``initiate_once``: the ledger's idempotent initiate, also saying which call sent the
request. Exactly one of many concurrent callers is told it created the checkout."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from ledger_support import PLURAL_CREATE, Sandbox

from payhub_core import AsyncHub, ConfigurationError, Hub
from payhub_core.ledger import Initiation

CALLERS = 20


def test_only_the_call_that_sent_the_request_is_told_it_created_it(
    sandbox: Sandbox, ledger_url: str
) -> None:
    with Hub(sandbox.config(ledger_url)) as hub:
        invoice = sandbox.invoice("ONCE-")
        before = sandbox.counter.count("POST", PLURAL_CREATE)
        barrier = threading.Barrier(CALLERS)

        def one(_: int) -> Initiation:
            barrier.wait()
            return hub.initiate_once(invoice)

        with ThreadPoolExecutor(CALLERS) as pool:
            done = list(pool.map(one, range(CALLERS)))
        assert sandbox.counter.count("POST", PLURAL_CREATE) - before == 1
        assert [item.created for item in done].count(True) == 1
        assert all(item.checkout == done[0].checkout for item in done)
        later = hub.initiate_once(invoice)
        assert (later.created, later.checkout) == (False, done[0].checkout)
        assert hub.initiate(invoice) == done[0].checkout  # initiate still gives a Checkout


@pytest.mark.anyio
async def test_async_only_one_task_is_told_it_created_the_checkout(
    sandbox: Sandbox, ledger_url: str
) -> None:
    hub = AsyncHub(sandbox.config(ledger_url))
    try:
        invoice = sandbox.invoice("AONCE-")
        done = await asyncio.gather(*(hub.initiate_once(invoice) for _ in range(CALLERS)))
        assert [item.created for item in done].count(True) == 1
        assert all(item.checkout == done[0].checkout for item in done)
    finally:
        await hub.aclose()


def test_initiate_once_needs_a_ledger(sandbox: Sandbox) -> None:
    config = sandbox.config("sqlite:///unused.sqlite3")
    del config["ledger"]
    with Hub(config) as hub, pytest.raises(ConfigurationError, match="ledger"):
        hub.initiate_once(sandbox.invoice("NOLEDGER-"))
