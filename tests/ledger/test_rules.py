"""The ledger's pure rules: precedence, money invariants, operation checks, digests.

The property test draws a payment's causal history (authorize, capture, partial refunds,
failures before success, a void) and delivers its events in any order, any number of
times, with late "pending" news mixed in: the payment never goes back, the invariants
hold after every event, and it ends where the causal order ends.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payhub_core import Callback, Money, OtpCode, PaymentResult, PaymentStatus
from payhub_core.ledger._rules import (
    FORWARD,
    Event,
    Standing,
    apply,
    check_operation,
    evidence_digest,
    invariant_problem,
    is_forward,
    operation_effect,
    operation_key,
)
from payhub_core.redaction import scrub

S = PaymentStatus
AMOUNT = 10_000


def standing(status: PaymentStatus = S.PENDING, **money: int) -> Standing:
    return Standing(status=status, amount=AMOUNT, **money)


def walk(start: Standing, events: list[Event]) -> Standing:
    for event in events:
        start = apply(start, event)
    return start


# -- precedence ---------------------------------------------------------------------


def test_forward_is_acyclic_and_transitively_closed() -> None:
    for a in S:
        assert a not in FORWARD[a]
        for b in FORWARD[a]:
            assert a not in FORWARD[b], f"{a} <-> {b}"
            assert FORWARD[b] <= FORWARD[a] | {b}, f"{a} -> {b} -> ... not closed"


@pytest.mark.parametrize("late", [S.PENDING, S.FAILED, S.AUTHORIZED, S.CANCELED])
def test_paid_never_goes_back(late: PaymentStatus) -> None:
    paid = apply(standing(), Event(S.PAID, AMOUNT))
    assert paid.status is S.PAID
    assert apply(paid, Event(late)) is paid


def test_a_verified_payment_after_a_failure_is_not_hidden() -> None:
    failed = apply(standing(), Event(S.FAILED))
    assert apply(failed, Event(S.PAID, AMOUNT)).status is S.PAID


def test_a_held_back_authorization_after_a_void_changes_nothing() -> None:
    voided = walk(standing(), [Event(S.AUTHORIZED, AMOUNT), Event(S.CANCELED)])
    assert voided.status is S.CANCELED
    assert apply(voided, Event(S.AUTHORIZED, AMOUNT)) is voided
    assert apply(voided, Event(S.PAID, AMOUNT)) is voided  # not on its way: ignored whole


def test_the_same_event_twice_changes_nothing_the_second_time() -> None:
    once = apply(standing(), Event(S.PAID, AMOUNT))
    assert apply(once, Event(S.PAID, AMOUNT)) is once


# -- money ----------------------------------------------------------------------------


def test_refunds_are_counted_once_by_their_id_in_any_order() -> None:
    paid = apply(standing(), Event(S.PAID, AMOUNT))
    r1 = Event(S.PARTIALLY_REFUNDED, 3_000, "rf-1")
    r2 = Event(S.REFUNDED, 7_000, "rf-2")
    for order in ([r1, r2, r1], [r2, r1, r2, r1]):
        final = walk(paid, order)
        assert (final.status, final.refunded, final.captured) == (S.REFUNDED, AMOUNT, AMOUNT)


def test_a_refund_before_its_capture_news_keeps_the_invariants() -> None:
    early = apply(standing(), Event(S.PARTIALLY_REFUNDED, 2_000, "rf-1"))
    assert invariant_problem(early) is None
    assert (early.captured, early.refunded) == (2_000, 2_000)
    late = apply(early, Event(S.PAID, AMOUNT))
    assert (late.status, late.captured, late.refunded) == (S.PARTIALLY_REFUNDED, AMOUNT, 2_000)


def test_amounts_above_the_invoice_are_capped() -> None:
    final = walk(standing(), [Event(S.AUTHORIZED, AMOUNT * 5), Event(S.PAID, AMOUNT * 5)])
    assert (final.authorized, final.captured) == (AMOUNT, AMOUNT)


@pytest.mark.parametrize(
    ("state", "operation", "amount", "allowed"),
    [
        (standing(S.AUTHORIZED, authorized=AMOUNT), "capture", None, AMOUNT),
        (standing(S.AUTHORIZED, authorized=AMOUNT), "capture", AMOUNT + 1, None),
        (standing(S.PAID, authorized=AMOUNT, captured=AMOUNT), "capture", None, None),
        (standing(S.PAID, authorized=AMOUNT, captured=AMOUNT), "refund", None, AMOUNT),
        (standing(S.PAID, authorized=AMOUNT, captured=AMOUNT), "refund", AMOUNT + 1, None),
        (
            standing(S.PARTIALLY_REFUNDED, authorized=AMOUNT, captured=AMOUNT, refunded=9_000),
            "refund",
            1_001,
            None,
        ),
        (standing(S.PENDING), "refund", 100, None),
        (standing(S.AUTHORIZED, authorized=AMOUNT), "cancel", None, None),
        (standing(S.PAID, authorized=AMOUNT, captured=AMOUNT), "cancel", None, None),
        (standing(S.AUTHORIZED, authorized=AMOUNT), "refund", 0, None),
    ],
)
def test_money_operations_are_checked_before_sending(
    state: Standing, operation: str, amount: int | None, allowed: int | None
) -> None:
    wanted, problem = check_operation(state, operation, amount, blocked=False)
    if operation == "cancel" and state.status is S.AUTHORIZED:
        assert problem is None
        return
    if allowed is None:
        assert problem is not None
        assert wanted is None
    else:
        assert problem is None
        assert wanted == allowed


def test_an_unknown_outcome_blocks_every_money_operation() -> None:
    state = standing(S.PAID, authorized=AMOUNT, captured=AMOUNT)
    for operation in ("capture", "cancel", "refund"):
        wanted, problem = check_operation(state, operation, None, blocked=True)
        assert wanted is None
        assert problem is not None
        assert "unknown" in problem


def test_operation_effects_from_a_status_answer() -> None:
    assert operation_effect("capture", S.PAID, "cap-1", "{}") is True
    assert operation_effect("capture", S.AUTHORIZED, "cap-1", "{}") is False
    assert operation_effect("capture", S.PENDING, "cap-1", "{}") is None
    assert operation_effect("refund", S.PARTIALLY_REFUNDED, "ref-1", '{"r": "ref-1"}') is True
    assert operation_effect("refund", S.PAID, "ref-1", '{"r": "ref-2"}') is False
    assert operation_effect("refund", S.PARTIALLY_REFUNDED, "ref-1", '{"r": "ref-2"}') is None
    assert operation_effect("cancel", S.CANCELED, "can-1", "{}") is True


# 16 random bytes whose plain hex, "555e5c90a4af4e0ca48089747871306d", holds the 14-digit
# Luhn-valid run 48089747871306: card-number scrubbing masks it ("...0ca**********1306d").
CARD_LIKE = bytes.fromhex("555e5c90a4af4e0ca48089747871306d")


def test_an_operation_key_is_never_masked_as_a_card_number() -> None:
    assert scrub(CARD_LIKE.hex()) != CARD_LIKE.hex()  # the hazard is real
    key = operation_key("refund", CARD_LIKE)
    assert scrub(key) == key
    assert operation_effect("refund", S.PARTIALLY_REFUNDED, key, scrub(f'{{"r": "{key}"}}'))


@given(st.binary(min_size=16, max_size=16), st.sampled_from(["capture", "cancel", "refund"]))
def test_operation_keys_hold_no_digit_and_keep_every_random_bit(entropy: bytes, kind: str) -> None:
    key = operation_key(kind, entropy)
    assert key.startswith(f"{kind[:3]}-")
    assert len(key) == 36
    assert not any(char.isdigit() for char in key)
    assert scrub(key) == key
    other = bytes([entropy[0] ^ 1]) + entropy[1:]
    assert operation_key(kind, other) != key  # distinct bytes, distinct keys


# -- digests ----------------------------------------------------------------------------


def _result(**extra: object) -> PaymentResult:
    return PaymentResult(status=S.PAID, reference="ref-1", **extra)  # type: ignore[arg-type]


def test_a_webhook_is_identified_by_its_event_id() -> None:
    one = Callback(method="POST", body=b'{"a": 1}', headers={"webhook-id": "e1"})
    other_bytes = Callback(method="POST", body=b'{"a":1}', headers={"webhook-id": "e1"})
    result = _result(event_id="msg_1")
    assert evidence_digest("india", one, result) == evidence_digest("india", other_bytes, result)
    assert evidence_digest("india", one, result) != evidence_digest("cards", one, result)


def test_a_return_is_identified_by_its_signed_content() -> None:
    first = Callback(query="a=1&sig=x")
    assert evidence_digest("g", first, _result()) == evidence_digest("g", first, _result())
    assert evidence_digest("g", first, _result()) != evidence_digest(
        "g", Callback(query="a=2&sig=x"), _result()
    )


def test_an_otp_digest_does_not_depend_on_the_code() -> None:
    from payhub_core import Invoice

    invoice = Invoice(number="I-1", amount=Money("1.00", "LYD"))
    a = OtpCode(reference="r", code="1111", invoice=invoice)  # type: ignore[arg-type]
    b = OtpCode(reference="r", code="2222", invoice=invoice)  # type: ignore[arg-type]
    result = _result(transaction_id="t-1")
    assert evidence_digest("g", a, result) == evidence_digest("g", b, result)
    assert "1111" not in evidence_digest("g", a, result)


# -- the property -----------------------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    """One payment's events in causal order."""
    events: list[Event] = [Event(S.PENDING)]
    if draw(st.booleans()):
        events.append(Event(S.FAILED))  # a first try that failed
        if not draw(st.booleans()):
            return events
    manual = draw(st.booleans())
    if manual:
        events.append(Event(S.AUTHORIZED, AMOUNT))
        if draw(st.booleans()):
            events.append(Event(S.CANCELED))
            return events
        captured = draw(st.integers(min_value=100, max_value=AMOUNT))
    else:
        captured = AMOUNT
    events.append(Event(S.PAID, captured))
    refunded = 0
    for index in range(draw(st.integers(min_value=0, max_value=4))):
        left = captured - refunded
        if left <= 0:
            break
        amount = draw(st.integers(min_value=1, max_value=left))
        refunded += amount
        status = S.REFUNDED if refunded == captured else S.PARTIALLY_REFUNDED
        events.append(Event(status, amount, f"rf-{index}"))
    return events


@given(history=histories(), data=st.data())
def test_any_interleaving_and_duplication_ends_where_the_causal_order_ends(
    history: list[Event], data: st.DataObject
) -> None:
    expected = walk(standing(), history)
    copies = data.draw(
        st.lists(
            st.integers(min_value=1, max_value=3), min_size=len(history), max_size=len(history)
        )
    )
    delivered = [event for event, n in zip(history, copies, strict=False) for _ in range(n)]
    delivered += [Event(S.PENDING)] * data.draw(st.integers(min_value=0, max_value=2))
    delivered = data.draw(st.permutations(delivered))
    state = standing()
    for event in delivered:
        after = apply(state, event)
        assert after.status == state.status or is_forward(state.status, after.status)
        assert invariant_problem(after) is None
        assert after.authorized >= state.authorized
        assert after.captured >= state.captured
        assert after.refunded >= state.refunded
        state = after
    assert (state.status, state.authorized, state.captured, state.refunded) == (
        expected.status,
        expected.authorized,
        expected.captured,
        expected.refunded,
    )


def test_every_pair_of_statuses_is_ordered_at_most_one_way() -> None:
    for a, b in itertools.permutations(S, 2):
        assert not (is_forward(a, b) and is_forward(b, a))
