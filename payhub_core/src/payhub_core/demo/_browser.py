"""A scripted customer: opens a checkout page, presses a button, follows the redirects and
auto-submitted forms back to the merchant, as a browser would (no JavaScript needed: the
emulators' pages follow the conventions in :mod:`payhub_core.sandbox._pages`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from payhub_core._models import Callback

__all__ = ["BrowserError", "ScriptedBrowser"]


class BrowserError(Exception):
    """The page did not look like a payhub sandbox page."""


@dataclass
class _Form:
    action: str
    method: str
    form_id: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, tuple[str, str]] = field(default_factory=dict)  # value -> (name, label)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self._button: tuple[str, str] | None = None
        self._label = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append(
                _Form(
                    action=attributes.get("action", ""),
                    method=attributes.get("method", "get").upper(),
                    form_id=attributes.get("id", ""),
                )
            )
        elif tag == "input" and self.forms and attributes.get("type") == "hidden":
            self.forms[-1].fields[attributes.get("name", "")] = attributes.get("value", "")
        elif tag == "button" and self.forms:
            self._button = (attributes.get("name", ""), attributes.get("value", ""))
            self._label = ""

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._label += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            name, value = self._button
            self.forms[-1].buttons[value] = (name, self._label.strip())
            self._button = None


def _forms(html: str) -> list[_Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class ScriptedBrowser:
    """Drives checkout pages over HTTP with ``httpx``; stops at the merchant's site."""

    def __init__(self, merchant_prefix: str, *, timeout: float = 10.0) -> None:
        self._merchant_prefix = merchant_prefix
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)
        self.visited: list[str] = []

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ScriptedBrowser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def press(self, checkout_url: str, button: str = "approve") -> httpx.Response:
        """Open ``checkout_url``, press ``button`` (approve, decline or cancel), and follow
        the way back to the merchant. Returns the merchant's response."""
        page = self._get(checkout_url)
        for form in _forms(page.text):
            if button in form.buttons:
                name, _label = form.buttons[button]
                data = {**form.fields, name: button}
                return self._follow(self._submit(page.url, form, data))
        raise BrowserError(f"no {button!r} button on {checkout_url}")

    def decide(self, checkout_url: str, button: str = "approve") -> Callback:
        """Open ``checkout_url``, press ``button`` and follow the pages up to the merchant, but
        do not call the merchant: return the request the browser would send there (the
        return, exactly as the merchant's handler would receive it) as a ``Callback``."""
        page = self._get(checkout_url)
        form = next((f for f in _forms(page.text) if button in f.buttons), None)
        if form is None:
            raise BrowserError(f"no {button!r} button on {checkout_url}")
        name, _label = form.buttons[button]
        response = self._submit(page.url, form, {**form.fields, name: button})
        for _hop in range(10):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if target.startswith(self._merchant_prefix):
                    return Callback(method="GET", query=urlsplit(target).query)
                response = self._get(target)
                continue
            autosubmit = [f for f in _forms(response.text) if f.form_id == "payhub-return"]
            if not autosubmit:
                raise BrowserError(
                    f"stuck at {response.url} (HTTP {response.status_code}) before the merchant"
                )
            form = autosubmit[0]
            target = urljoin(str(response.url), form.action) if form.action else str(response.url)
            if target.startswith(self._merchant_prefix):
                # The kit's return page (``autosubmit_page``) always POSTs a form.
                return Callback(
                    method="POST",
                    query=urlsplit(target).query,
                    headers={"content-type": "application/x-www-form-urlencoded"},
                    body=urlencode(form.fields).encode(),
                )
            response = self._submit(response.url, form, dict(form.fields))
        raise BrowserError("too many redirects")

    def _get(self, url: str | httpx.URL) -> httpx.Response:
        self.visited.append(str(url))
        return self._client.get(url)

    def _submit(self, base: httpx.URL, form: _Form, data: dict[str, str]) -> httpx.Response:
        target = urljoin(str(base), form.action) if form.action else str(base)
        self.visited.append(target)
        if form.method == "POST":
            return self._client.post(target, data=data)
        return self._client.get(target, params=data)

    def _follow(self, response: httpx.Response) -> httpx.Response:
        for _hop in range(10):
            if str(response.url).startswith(self._merchant_prefix):
                return response
            if response.is_redirect:
                response = self._get(urljoin(str(response.url), response.headers["location"]))
                continue
            autosubmit = [form for form in _forms(response.text) if form.form_id == "payhub-return"]
            if autosubmit:
                form = autosubmit[0]
                response = self._submit(response.url, form, dict(form.fields))
                continue
            raise BrowserError(
                f"stuck at {response.url} (HTTP {response.status_code}) before the merchant"
            )
        raise BrowserError("too many redirects")
