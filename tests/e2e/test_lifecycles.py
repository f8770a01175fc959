"""Every adapter's whole payment life against the sandbox over real HTTP, through ``Hub``
and ``AsyncHub``: initiate, the customer's approval, the signed arrival, verify with
``expected``, then capture / cancel / refund / status where offered."""

from __future__ import annotations

import pytest
from e2e_support import case_ids

from payhub_core import AsyncHub, Hub
from payhub_core.demo import DemoEnvironment, run_case, run_case_async
from payhub_core.sandbox import DemoCase

CASES = case_ids()


def test_every_installed_adapter_has_a_demo_case() -> None:
    from payhub_core import available_adapters

    shipped = {
        info.name
        for info in available_adapters()
        if info.distribution in ("payhub-plutu", "payhub-plural")
    }
    covered = {alias.rsplit("-", 1)[0].replace("-", ".", 1) for alias in CASES}
    assert shipped, "the Plutu and Plural adapters must be installed"
    assert shipped <= covered


@pytest.mark.parametrize("alias", CASES)
def test_life_cycle_through_hub(
    sandbox: DemoEnvironment, cases: dict[str, DemoCase], alias: str
) -> None:
    case = cases[alias]
    with Hub(sandbox.hub_config([(alias, case)])) as hub:
        result = run_case(sandbox, hub, alias, case)
    assert result.ok, result.error
    names = [step.name for step in result.steps]
    assert names[0] == "initiate"
    assert "verify" in names
    assert names[len(names) - len(case.after_verify) :] == list(case.after_verify)
    assert result.status == (result.steps[-1].detail if case.after_verify else case.expected_status)


@pytest.mark.anyio
@pytest.mark.parametrize("alias", CASES)
async def test_life_cycle_through_async_hub(
    sandbox: DemoEnvironment, cases: dict[str, DemoCase], alias: str
) -> None:
    case = cases[alias]
    async with AsyncHub(sandbox.hub_config([(alias, case)])) as hub:
        result = await run_case_async(sandbox, hub, alias, case)
    assert result.ok, result.error
