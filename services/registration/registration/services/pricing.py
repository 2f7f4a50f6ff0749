"""What a registration costs: the rate, a discount code, and VAT. Integer minor units only."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from flask_babel import gettext
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from suite_common.db import insert_once
from suite_common.errors import ApiError, validation_error

from ..models import DiscountCode, Event, EventSession, Rate, Registration
from .money import Breakdown, vat_breakdown


@dataclass(frozen=True)
class Price:
    amount: int  # what the attendee pays, as rates are priced (gross if prices include VAT)
    list_amount: int
    discount: int
    discount_code: DiscountCode | None


@dataclass(frozen=True)
class Quote:
    """A sign-up's total as the attendee reviews it before committing, line by line: the rate at its list
    price, the discount, each workshop, and the VAT of the whole as the receipt will split it."""

    currency: str
    price: Price
    workshops: tuple[tuple[EventSession, int], ...]  # each chosen workshop with its price
    amount_due: int  # the lines' sum as the event prices them (net when prices exclude VAT): stored as is
    vat_rate: Decimal
    prices_include_vat: bool
    vat: Breakdown  # of amount_due, as receipts.lines' document splits it; ``vat.gross`` is what is paid

    @property
    def to_pay(self) -> int:
        """What the attendee pays: the same figure as ``amount_to_pay`` of the registration it becomes."""
        return self.vat.gross


def quote(event: Event, rate: Rate, price_of_rate: Price, workshops: list[EventSession]) -> Quote:
    """The total of a sign-up: ``price_of_rate`` (the rate after its discount code, from ``price``) plus the
    chosen workshops. ``signup.sign_up`` stores its ``amount_due``; the review step shows ``to_pay`` as the
    total, the same figure the payment page charges and the receipt totals."""
    chosen = tuple((workshop, workshop.amount) for workshop in workshops)
    amount_due = price_of_rate.amount + sum(amount for _workshop, amount in chosen)
    return Quote(currency=rate.currency, price=price_of_rate, workshops=chosen, amount_due=amount_due,
                 vat_rate=event.vat_rate, prices_include_vat=event.prices_include_vat,
                 vat=vat_breakdown(amount_due, event.vat_rate, event.prices_include_vat))


def amount_to_pay(registration: Registration) -> int:
    """What the attendee owes, VAT included: what Stripe charges, the webhook checks, an invoice's transfer
    pays and the receipt totals.

    ``Registration.amount_due`` stores the lines' sum as the event prices them, so it is net when the
    event's prices exclude VAT; charging it as it stands once took the VAT out of every payment.
    """
    event = registration.event
    return vat_breakdown(registration.amount_due, event.vat_rate, event.prices_include_vat).gross


def amount_to_pay_sql(event: Event) -> ColumnElement[int]:
    """``amount_to_pay`` of each of ``event``'s registrations as SQL, for the roster's CSV (built in the
    database): the VAT rounded half up as ``money.vat_breakdown`` rounds it, in integers only."""
    if event.prices_include_vat:
        return Registration.amount_due
    share = Fraction(event.vat_rate) / 100  # amount_due is never negative: (2an + d) // 2d rounds half up
    vat = (Registration.amount_due * (2 * share.numerator) + share.denominator) // (2 * share.denominator)
    return Registration.amount_due + vat


def discounted(amount: int, code: DiscountCode | None) -> int:
    """The price after the code; never below zero."""
    if code is None:
        return amount
    if code.percent_off is not None:
        off = int((Decimal(amount) * code.percent_off / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    else:
        off = code.amount_off or 0
    return max(0, amount - off)


def find_code(session: Session, event: Event, rate: Rate | None, code: str, now: dt.datetime) -> DiscountCode:
    """The event's code, or a 422 on ``discount_code`` saying why not; without a ``rate`` (none chosen yet)
    every check but the code's rates, so that the form reports a wrong code with its other errors."""
    found = session.scalar(select(DiscountCode).where(DiscountCode.event_id == event.id,
                                                      DiscountCode.code == code.strip().upper()))
    refusal = None
    if found is None:
        refusal = gettext("Unknown discount code.")
    elif found.valid_until is not None and now >= found.valid_until:
        refusal = gettext("This discount code has expired.")
    elif found.rates and rate is not None and rate.code not in found.rates:
        refusal = gettext("This discount code does not apply to this rate.")
    elif found.max_uses is not None and found.uses >= found.max_uses:
        refusal = gettext("This discount code has been used up.")
    if refusal:
        raise validation_error({"discount_code": [refusal]})
    assert found is not None
    return found


def try_claim_use(session: Session, code_id: int) -> bool:
    """Takes one use with a conditional UPDATE (a row lock on PostgreSQL), so the limit holds under any race."""
    result = session.execute(
        update(DiscountCode)
        .where(DiscountCode.id == code_id, (DiscountCode.max_uses.is_(None)) | (DiscountCode.uses < DiscountCode.max_uses))
        .values(uses=DiscountCode.uses + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def release_use(session: Session, code_id: int) -> None:
    session.execute(update(DiscountCode).where(DiscountCode.id == code_id, DiscountCode.uses > 0)
                    .values(uses=DiscountCode.uses - 1).execution_options(synchronize_session=False))


def price(session: Session, event: Event, rate: Rate, code: str | None, now: dt.datetime) -> Price:
    discount_code = find_code(session, event, rate, code, now) if code else None
    amount = discounted(rate.amount, discount_code)
    return Price(amount=amount, list_amount=rate.amount, discount=rate.amount - amount, discount_code=discount_code)


def add_code(session: Session, event: Event, data: dict[str, object]) -> DiscountCode:
    rate_codes = {rate.code for rate in event.rates}
    unknown = [code for code in (data.get("rates") or []) if code not in rate_codes]
    if unknown:
        raise validation_error({"rates": [f"Unknown rate: {', '.join(map(str, unknown))}."]})
    item, created = insert_once(session, DiscountCode, {**data, "event_id": event.id, "uses": 0,
                                                        "code": str(data["code"]).upper()}, key=("event_id", "code"))
    if not created:
        raise ApiError(409, "conflict", "A discount code with this code already exists.", {"code": ["Already in use."]})
    return item


def refund_due(event: Event, paid: int, now: dt.datetime) -> int:
    """The event's cancellation policy applied to what was paid (VAT included: the money that came in):
    full, a percentage, or nothing; minus the fee, kept as the organiser wrote it."""
    if paid <= 0:
        return 0
    if event.refund_full_until is not None and now < event.refund_full_until:
        share = 100
    elif event.refund_partial_until is not None and now < event.refund_partial_until:
        share = event.refund_partial_percent
    elif event.refund_full_until is None and event.refund_partial_until is None:
        share = 100  # no policy set: cancellations are refunded in full
    else:
        share = 0
    gross = int((Decimal(paid) * share / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return max(0, gross - event.cancellation_fee) if share else 0


def refund_on_cancel(registration: Registration, now: dt.datetime) -> int:
    """What cancelling ``registration`` at ``now`` gives back: the policy applied to what was paid and
    not yet refunded. ``lifecycle.cancel`` refunds exactly this, and the console shows it before
    the organiser confirms."""
    return refund_due(registration.event, registration.amount_paid - registration.amount_refunded, now)


@dataclass(frozen=True)
class RefundPreview:
    """What cancelling now means in money, shown before the attendee confirms (no surprise in the mail)."""

    paid: int  # paid and not refunded yet
    refund: int  # what the policy gives back now: exactly what ``lifecycle.cancel`` refunds
    kept: int  # what the policy keeps: the cancellation fee, the share not refunded
    currency: str


def refund_preview(registration: Registration, now: dt.datetime) -> RefundPreview:
    paid = max(0, registration.amount_paid - registration.amount_refunded)
    refund = refund_on_cancel(registration, now)
    return RefundPreview(paid=paid, refund=refund, kept=paid - refund, currency=registration.currency)
