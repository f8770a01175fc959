"""Every part of an ``httpx.URL`` that reaches the wire, for comparing a request an
adapter builds with the one plain httpx builds (tests/plural, tests/plutu)."""

from __future__ import annotations

from typing import Any

import httpx


def url_parts(url: httpx.URL) -> tuple[Any, ...]:
    return (
        str(url),
        url.scheme,
        url.userinfo,
        url.raw_host,
        url.port,
        url.netloc,
        url.raw_path,
        url.fragment,
    )
