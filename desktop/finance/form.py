"""The payment form's checks: what finance typed or picked -> the record to store.

Each message is one fixed English sentence per kind of mistake (no value in it), so the
UI translates it through its catalog as it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from desktop.errors import ValidationError
from desktop.schema import CURRENCIES, PAYMENT_KINDS, PAYMENT_METHODS

MAX_AMOUNT = Decimal("9999999999999.99")  # 15 digits: read back exactly from a REAL column
INVOICE_MAX = 100
NOTE_MAX = 2000

NOT_A_NUMBER = "Enter the amount as a number, e.g. 12800.50"
TOO_MANY_DECIMALS = "At most 2 decimals (cents)"
NOT_POSITIVE = "The amount must be greater than zero"
TOO_LARGE = "The amount is too large"
AMOUNT_FIELD_ERRORS = (NOT_A_NUMBER, TOO_MANY_DECIMALS, NOT_POSITIVE, TOO_LARGE)
NO_KIND = "Choose planned or received"
NO_TARGET = "Pick a deal or contract from the list"
NO_CURRENCY = "Choose a currency"
NO_DATE = "Enter a date"
BAD_METHOD = "Choose a method from the list"
INVOICE_TOO_LONG = "The invoice No. is too long (at most 100 characters)"
NOTE_TOO_LONG = "The note is too long (at most 2000 characters)"
FORM_ERRORS = (*AMOUNT_FIELD_ERRORS, NO_KIND, NO_TARGET, NO_CURRENCY, NO_DATE, BAD_METHOD,
               INVOICE_TOO_LONG, NOTE_TOO_LONG)
_DROP = str.maketrans("", "", ", \u00a0\u3000¥￥")  # thousands separators, spaces, yuan signs


def parse_amount(text: str) -> Decimal:
    """An amount as typed ("12,800.5", "￥12800.50") -> Decimal with 2 decimals.
    Raises ValidationError (field "amount") with one of AMOUNT_FIELD_ERRORS."""
    cleaned = (text or "").translate(_DROP)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationError(NOT_A_NUMBER, field="amount") from None
    if not value.is_finite():
        raise ValidationError(NOT_A_NUMBER, field="amount")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and value != value.quantize(Decimal("0.01")):
        raise ValidationError(TOO_MANY_DECIMALS, field="amount")
    if value <= 0:
        raise ValidationError(NOT_POSITIVE, field="amount")
    if value > MAX_AMOUNT:
        raise ValidationError(TOO_LARGE, field="amount")
    return value.quantize(Decimal("0.01"))


@dataclass(frozen=True)
class PaymentInput:
    """What the form holds. `target` is ("deal" | "contract", id) or None; `target_deal`
    a picked contract's deal (the payment then belongs to both)."""

    kind: str | None
    target: tuple[str, str] | None
    amount: str
    currency: str | None
    date: dt.date | str | None
    method: str | None = None
    invoice_no: str = ""
    note: str = ""
    target_deal: str | None = None


def check_payment(given: PaymentInput) -> tuple[dict[str, Any], dict[str, str]]:
    """(values for the payment repository, {field: message}); values are only complete
    when there is no message. The amount is stored as a number whose decimal text is the
    typed Decimal (desktop.finance.payments.money reads it back exactly)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if given.kind in PAYMENT_KINDS:
        values["kind"] = given.kind
    else:
        errors["kind"] = NO_KIND
    if given.target is None or given.target[0] not in ("deal", "contract"):
        errors["target"] = NO_TARGET
    else:
        entity, rid = given.target
        values["deal_id"] = rid if entity == "deal" else given.target_deal
        values["contract_id"] = rid if entity == "contract" else None
    try:
        values["amount"] = float(parse_amount(given.amount))
    except ValidationError as exc:
        errors["amount"] = exc.message
    currency = (given.currency or "").upper()
    if currency in CURRENCIES or (len(currency) == 3 and currency.isascii()
                                  and currency.isalpha()):
        values["currency"] = currency
    else:
        errors["currency"] = NO_CURRENCY
    day = given.date
    if isinstance(day, dt.date):
        values["date"] = day.isoformat()
    else:
        try:
            values["date"] = dt.date.fromisoformat(str(day or "").strip()).isoformat()
        except ValueError:
            errors["date"] = NO_DATE
    if given.method and given.method not in PAYMENT_METHODS:
        errors["method"] = BAD_METHOD
    else:
        values["method"] = given.method or None
    invoice = given.invoice_no.strip()
    if len(invoice) > INVOICE_MAX:
        errors["invoice_no"] = INVOICE_TOO_LONG
    values["invoice_no"] = invoice or None
    note = given.note.strip()
    if len(note) > NOTE_MAX:
        errors["note"] = NOTE_TOO_LONG
    values["note"] = note or None
    return values, errors
