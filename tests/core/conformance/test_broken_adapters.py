"""The conformance suite's own tests: each deliberately broken adapter fails exactly the
checks named for its defect, and a correct adapter given as a class passes them all."""

from __future__ import annotations

import pytest
from acme_fake import SETTINGS, FakeAcme
from broken_adapters import (
    CrashesOnGarbage,
    DeclaresLess,
    FloatAmounts,
    IdempotentCapture,
    LeakyRepr,
    RetriesItself,
    UnsignedVerify,
)
from payhub_example import AcmeAdapter

from payhub_core import Callback, Checkout, Invoice
from payhub_core.testing.conformance import CHECKS, AdapterConformance, GatewayHandler


def suite_for(cls: type) -> type[AdapterConformance]:
    class Suite(AdapterConformance):
        adapter = cls
        settings = SETTINGS
        amount_field = "amount_minor"
        amount_unit = "minor"
        examples = 30

        def gateway(self) -> FakeAcme:
            return FakeAcme()

        def evidence(
            self, gateway: GatewayHandler, invoice: Invoice, checkout: Checkout
        ) -> Callback:
            assert isinstance(gateway, FakeAcme)
            return gateway.pay(checkout.reference)

    Suite.__name__ = f"{cls.__name__}Conformance"
    return Suite


def failing(cls: type) -> set[str]:
    return {name for name, failure in suite_for(cls).run_checks().items() if failure}


def test_the_correct_adapter_given_as_a_class_passes_every_check() -> None:
    outcome = suite_for(AcmeAdapter).run_checks()
    assert set(outcome) == set(CHECKS)
    assert {name: str(failure) for name, failure in outcome.items() if failure} == {}


@pytest.mark.parametrize(
    ("broken", "checks"),
    [
        (UnsignedVerify, {"tampered_evidence_never_paid", "foreign_evidence_never_paid"}),
        (IdempotentCapture, {"money_requests_not_marked_idempotent"}),
        (RetriesItself, {"non_idempotent_requests_sent_once"}),
        (LeakyRepr, {"secrets_never_leak"}),
        (FloatAmounts, {"amounts_exact_on_wire"}),
        (CrashesOnGarbage, {"tampered_evidence_never_paid", "foreign_evidence_never_paid"}),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
def test_a_broken_adapter_fails_exactly_the_named_checks(broken: type, checks: set[str]) -> None:
    assert failing(broken) == checks


def test_a_failure_names_its_check_and_where_to_read_about_it() -> None:
    failure = suite_for(LeakyRepr).run_checks(["secrets_never_leak"])["secrets_never_leak"]
    assert failure is not None
    assert failure.check == "secrets_never_leak"
    assert str(failure).startswith("[secrets_never_leak] a secret")
    assert "docs/testing-kit.md" in str(failure)
    assert "CANARY" not in str(failure)  # the report itself does not repeat the secret


def test_capabilities_that_differ_from_the_hooks_fail_every_check_under_that_name() -> None:
    outcome = suite_for(DeclaresLess).run_checks()
    assert set(outcome) == set(CHECKS)
    for failure in outcome.values():
        assert failure is not None
        assert failure.check == "capabilities_match_hooks"
        assert "declares operations ['initiate', 'status', 'verify']" in str(failure)
