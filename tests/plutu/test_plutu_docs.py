"""The documentation covers what Plutu's API documentation lists (plutu_error_codes.txt):
every error code, every service, every SDK call a migrating merchant uses."""

from __future__ import annotations

import re

import pytest
from plutu_support import ADAPTERS, DOCS_DIR, ERROR_CODES_FILE

from payhub_plutu import ERROR_CODES
from payhub_plutu._codes import SDK_ONLY_CODES, describe

PAGES = {
    "plutu.sadad": "sadad.md",
    "plutu.adfali": "adfali.md",
    "plutu.localbankcards": "localbankcards.md",
    "plutu.mpgs": "mpgs.md",
    "plutu.tlync": "tlync.md",
}


def _documented_codes() -> set[str]:
    lines = ERROR_CODES_FILE.read_text("utf-8").splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def test_the_documented_list_has_the_codes() -> None:
    codes = _documented_codes()
    assert {"INVLIAD_OTP", "DUPLICATED_INVOICE_NUMBER", "CONNECT_ERROR"} <= codes
    assert len(codes) > 30


def test_every_documented_code_is_known() -> None:
    assert _documented_codes() - set(ERROR_CODES) - set(SDK_ONLY_CODES) == set()
    # ... and nothing is made up: every known code comes from Plutu's documentation.
    assert set(ERROR_CODES) - _documented_codes() == set()


def test_every_code_is_documented_with_its_meaning() -> None:
    page = (DOCS_DIR / "errors.md").read_text("utf-8")
    for code, entry in ERROR_CODES.items():
        row = next((line for line in page.splitlines() if line.startswith(f"| `{code}` |")), None)
        assert row is not None, code
        assert entry.meaning in row
        assert entry.action in row
    for code in SDK_ONLY_CODES:
        assert f"`{code}`" in page


def test_describe() -> None:
    assert "new invoice number" in describe("DUPLICATED_INVOICE_NUMBER")
    assert "does not know" in describe("NEVER_SEEN")
    assert describe(None) == "Plutu gave no error code"


@pytest.mark.parametrize(("adapter", "page"), PAGES.items())
def test_service_page(adapter: str, page: str) -> None:
    text = (DOCS_DIR / page).read_text("utf-8")
    assert f"`{adapter}`" in text
    assert f"/api/v1/transaction/{ADAPTERS[adapter]}/" in text
    for heading in ("## Flow", "## Fields", "## What the merchant must store", "## Error codes"):
        assert heading in text, heading
    assert "tatus mapping" in text
    not_codes = {"POST", "GET", "CHECKOUT_REDIRECT"}
    for code in set(re.findall(r"`([A-Z][A-Z_]{3,})`", text)) - not_codes:
        assert code in ERROR_CODES, code


def test_index_links_every_page() -> None:
    index = (DOCS_DIR / "index.md").read_text("utf-8")
    for page in [*PAGES.values(), "errors.md", "migrating-from-plutu-php.md"]:
        assert f"]({page})" in index
        assert (DOCS_DIR / page).is_file()


def test_migration_table_covers_the_sdk() -> None:
    text = (DOCS_DIR / "migrating-from-plutu-php.md").read_text("utf-8")
    for sdk_call in [
        "setCredentials",
        "setApiKey",
        "setAccessToken",
        "setSecretKey",
        "PlutuSadad::verify",
        "PlutuAdfali::verify",
        "PlutuSadad::confirm",
        "PlutuLocalBankCards::confirm",
        "PlutuMpgs::confirm",
        "PlutuTlync::confirm",
        "callbackHandler",
        "returnHandler",
        "getProcessId",
        "getTransactionId",
        "getRedirectUrl",
        "isApprovedTransaction",
        "isCanceledTransaction",
        "getParameter(",
        "getParameters",
        "isSuccessful",
        "getErrorCode",
        "getErrorMessage",
        "getStatusCode",
        "InvalidCallbackHashException",
    ]:
        assert sdk_call in text, sdk_call
    for adapter in ADAPTERS:
        assert adapter in text
