"""The ``[web]`` configuration table, and the endpoint URLs it implies.

::

    [web]
    public_url = "https://shop.example"      # where customers and gateways reach the site
    mount = "/payhub"                        # where the endpoints are mounted (the default)
    webhook_aliases = ["india"]              # who may use the shared /webhook URL
    [web.pages]                              # where a returning customer is sent
    paid = "/orders/{invoice}/thanks"
    default = "/orders/{invoice}"

The URLs are never derived from a request's ``Host`` or ``X-Forwarded-*`` headers: those
are whatever the client says, and a return URL built from them could send a customer (and
the gateway's signed evidence) anywhere. ``public_url`` is configuration.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from payhub_core._config import HubConfig
from payhub_core._errors import ConfigurationError
from payhub_core._models import Invoice, PaymentStatus, validation_message

__all__ = ["PAGE_FIELDS", "WebSettings", "endpoint_url", "fill_urls", "web_settings"]

PAGE_FIELDS = ("invoice", "status", "gateway")
"""The placeholders a page template may use; each value is percent-encoded."""

_PAGE_KEYS = frozenset({*(status.value for status in PaymentStatus), "default", "error"})


def _check_template(template: str) -> str:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        raise ValueError("is not a valid template (unbalanced braces)") from None
    unknown = sorted(names - set(PAGE_FIELDS))
    if unknown:
        raise ValueError(
            f"uses unknown placeholders {unknown}; available: {', '.join(PAGE_FIELDS)}"
        )
    parts = urlsplit(template.replace("{", "").replace("}", ""))
    if parts.scheme:
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be a path (/...) or an absolute http(s) URL")
    elif not template.startswith("/") or template.startswith("//"):
        raise ValueError("must be a path (/...) or an absolute http(s) URL")
    return template


class WebSettings(BaseModel):
    """The validated ``[web]`` table."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    public_url: str | None = None
    """Base URL of the site as customers and gateways reach it (scheme, host, optional
    path prefix; no query). Needed for ``initiate`` to fill return and callback URLs."""
    mount: str = "/payhub"
    """Path below ``public_url`` where the endpoints are mounted."""
    pages: dict[str, str] = Field(default_factory=dict)
    """URL templates per payment status (``paid``, ``failed``...), ``default`` for any
    other, ``error`` for evidence that could not be trusted."""
    webhook_aliases: tuple[str, ...] | None = None
    """Aliases tried, in order, for deliveries to the shared ``/webhook`` URL (default:
    every gateway that takes webhooks, in configuration order)."""
    max_body: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = 1024 * 1024

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        return value.rstrip("/")

    @field_validator("mount")
    @classmethod
    def _mount(cls, value: str) -> str:
        if not value.startswith("/") or "?" in value or "#" in value or "//" in value:
            raise ValueError("must be a path starting with '/'")
        return value.rstrip("/")

    @field_validator("pages")
    @classmethod
    def _pages(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - _PAGE_KEYS)
        if unknown:
            raise ValueError(
                f"unknown page keys {unknown}; use payment statuses, 'default' or 'error'"
            )
        for key, template in value.items():
            try:
                _check_template(template)
            except ValueError as error:
                raise ValueError(f"{key!r} {error}") from None
        return value

    def page(self, key: str, **values: str) -> str | None:
        """The page for ``key`` (a status, else ``default``; or ``error``), placeholders
        filled and encoded; paths are joined to ``public_url`` when there is one."""
        template = self.pages.get(key, self.pages.get("default"))
        if key == "error":
            template = self.pages.get("error")
        if template is None:
            return None
        url = template.format(
            **{name: quote(values.get(name, ""), safe="") for name in PAGE_FIELDS}
        )
        if url.startswith("/") and self.public_url is not None:
            return self.public_url + url
        return url


def web_settings(config: HubConfig | Mapping[str, Any] | None) -> WebSettings:
    """Validate a hub's ``[web]`` table (or the table itself); ``ConfigurationError`` names
    the field."""
    table = config.web if isinstance(config, HubConfig) else config
    try:
        return WebSettings.model_validate(dict(table or {}))
    except ValidationError as error:
        message, _ = validation_message(error)
        raise ConfigurationError(f"invalid [web] configuration: {message}") from None


def endpoint_url(settings: WebSettings, alias: str, kind: str) -> str:
    """The public URL of ``alias``'s ``kind`` endpoint (``return``, ``callback``,
    ``webhook``); ``ConfigurationError`` without ``public_url``."""
    if settings.public_url is None:
        raise ConfigurationError("the [web] table has no public_url, so no endpoint URL is known")
    return f"{settings.public_url}{settings.mount}/{quote(alias, safe='')}/{kind}"


def fill_urls(invoice: Invoice, alias: str, web: WebSettings | Mapping[str, Any] | None) -> Invoice:
    """``invoice`` with the return and callback URLs it lacks set to ``alias``'s mounted
    endpoints, when ``[web] public_url`` is configured; otherwise ``invoice`` unchanged.
    ``web`` is the validated settings or the raw ``[web]`` table."""
    if web is None or (invoice.return_url is not None and invoice.callback_url is not None):
        return invoice
    settings = web if isinstance(web, WebSettings) else web_settings(web)
    if settings.public_url is None:
        return invoice
    update: dict[str, str] = {}
    if invoice.return_url is None:
        update["return_url"] = endpoint_url(settings, alias, "return")
    if invoice.callback_url is None:
        update["callback_url"] = endpoint_url(settings, alias, "callback")
    return invoice.model_copy(update=update)
