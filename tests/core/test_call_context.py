"""Each call's context is derived from its gateway's, worked out once at hub build: the
derivation must give every call the same context a fresh computation would, never share
one call's operation or request id with another, and keep what the adapter set itself."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from _hubkit import FlowAdapter, local_config, use_local_adapters

from payhub_core import AdapterError, Hub, hookimpl
from payhub_core._driver import RequestContext


def _fresh(hub: Hub, alias: str = "local") -> RequestContext:
    """The template computed again from the gateway, not the one it keeps."""
    return RequestContext.template(hub._gateways[alias])


def test_a_calls_context_is_the_gateways_with_its_operation_and_request_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local_adapters(monkeypatch, local_flow=FlowAdapter)
    config = local_config(timeout=4, connect_timeout=1, max_retries=1, max_response_bytes=4096)
    with Hub.from_config(config) as hub:
        gateway = hub._gateways["local"]
        first = RequestContext.for_gateway(gateway, "capture", "r1")
        second = RequestContext.for_gateway(gateway, "status", "r2")
        fresh = _fresh(hub)
    values = {item.name: getattr(fresh, item.name) for item in dataclasses.fields(fresh)}
    assert first == RequestContext(**{**values, "operation": "capture", "request_id": "r1"})
    assert (second.operation, second.request_id) == ("status", "r2")
    assert (first.operation, first.request_id) == ("capture", "r1")
    # the kept template is untouched by the calls derived from it
    assert (gateway.context.operation, gateway.context.request_id) == ("", "")
    assert first.max_response_bytes == 4096
    assert first.user_agent.endswith("(local.flow)")
    assert first.status_check is True


def test_each_call_sees_its_own_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    use_local_adapters(monkeypatch, local_flow=FlowAdapter)
    ids: list[str] = []
    with Hub.from_config(local_config()) as hub:
        for _ in range(3):
            call = hub._call(None, "status")
            ids.append(call.context.request_id)
    assert len(set(ids)) == 3


class LowerCaseHeaders(FlowAdapter):
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Request:
        request = super()._request(method, path, **kwargs)
        request.headers["user-agent"] = "acme-sdk/2"
        request.headers["accept-encoding"] = "identity"
        request.extensions["timeout"] = {"connect": 1.0, "read": 2.0, "write": 3.0, "pool": 4.0}
        return request


def test_headers_and_timeouts_the_adapter_set_are_kept_whatever_their_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local_adapters(monkeypatch, local_flow=LowerCaseHeaders)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "paid"})

    with Hub.from_config(local_config(), transport=httpx.MockTransport(handler)) as hub:
        hub.status("o")
    headers = seen[0].headers
    assert headers.get_list("user-agent") == ["acme-sdk/2"]
    assert headers.get_list("accept-encoding") == ["identity"]
    # the adapter's own waits (each shorter than what is left of the operation's deadline)
    assert seen[0].extensions["timeout"] == {"connect": 1.0, "read": 2.0, "write": 3.0, "pool": 4.0}


class Interrupted(FlowAdapter):
    @hookimpl
    def payhub_status(self, reference: str) -> Any:  # type: ignore[override]
        raise KeyboardInterrupt


def test_an_interrupt_in_a_hook_is_not_wrapped_as_an_adapter_bug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local_adapters(monkeypatch, local_flow=Interrupted)
    with Hub.from_config(local_config()) as hub, pytest.raises(KeyboardInterrupt):
        hub.status("o")


def test_an_adapter_bug_is_still_wrapped_with_its_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(FlowAdapter):
        @hookimpl
        def payhub_status(self, reference: str) -> Any:  # type: ignore[override]
            raise LookupError("no such thing")

    use_local_adapters(monkeypatch, local_flow=Broken)
    with Hub.from_config(local_config()) as hub, pytest.raises(AdapterError) as raised:
        hub.status("o")
    assert isinstance(raised.value.__cause__, LookupError)
    assert raised.value.__suppress_context__
    assert raised.value.operation == "status"
