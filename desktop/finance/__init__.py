"""Payments (回款) as finance records them and a rep reads them (issue 18), no Qt:
exact Decimal money to the cent, a deal's collected and outstanding amounts per
currency, the payments list's filter, the payment form's checks, and who may write.

The app's payment screens (desktop.ui.records) show what these functions return; the
server stays the authority on who may write (desktop.schema.FINANCE_WRITES).
"""

from __future__ import annotations

from desktop.finance.form import (
    AMOUNT_FIELD_ERRORS,
    FORM_ERRORS,
    PaymentInput,
    check_payment,
    parse_amount,
)
from desktop.finance.payments import (
    CurrencyTotals,
    DealPayments,
    Target,
    attach_targets,
    contract_label,
    currencies,
    deal_payments,
    find_targets,
    list_filter,
    may_record_payments,
    money,
    owner_for,
    payment_role,
    save_payment,
    summarize,
    target_of,
)

__all__ = [
    "AMOUNT_FIELD_ERRORS", "FORM_ERRORS", "CurrencyTotals", "DealPayments", "PaymentInput",
    "Target", "attach_targets", "check_payment", "contract_label", "currencies",
    "deal_payments", "find_targets", "list_filter", "may_record_payments", "money",
    "owner_for", "parse_amount", "payment_role", "save_payment", "summarize", "target_of",
]
