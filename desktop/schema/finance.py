"""Finance: the currencies, payments (回款) and exchange rates."""

from __future__ import annotations

from desktop.schema.entity_type import Entity
from desktop.schema.fields import ADMIN_ONLY, EXTERNAL_IDS_FIELD, Check, Field, FieldType, Role

F = Field
T = FieldType

CURRENCIES = ("CNY", "USD", "EUR", "HKD", "JPY", "GBP", "SGD")

# Money finance trusts (issue 18, desktop.reports). A payment (回款) is planned (an
# instalment the contract schedules) or received; collected is the sum of received
# payments. Finance writes payments; the owner is the deal's rep, who reads them.
# Exchange rates are dated data an admin sets: `rate` CNY for one unit of `currency`
# from `valid_from` on; reports convert with the rate in force on each amount's date.
FINANCE_WRITES = (Role.FINANCE, Role.ADMIN)
PAYMENT_KINDS = ("planned", "received")
PAYMENT_METHODS = ("bank_transfer", "cheque", "cash", "acceptance_bill", "card", "other")
PAYMENT = Entity(
    "payment", "Payment", "回款",
    (
        F("kind", T.CHOICE, "Planned or received", "计划/实收", required=True,
          choices=PAYMENT_KINDS, writable_by=FINANCE_WRITES),
        F("amount", T.NUMBER, "Amount", "金额", required=True, writable_by=FINANCE_WRITES),
        F("currency", T.TEXT, "Currency", "币种", check=Check.CURRENCY,
          writable_by=FINANCE_WRITES),
        F("date", T.DATE, "Due or received on", "计划/到账日期", required=True,
          writable_by=FINANCE_WRITES),
        F("deal_id", T.REF, "Deal", "商机", ref="deal", writable_by=FINANCE_WRITES),
        F("contract_id", T.REF, "Contract", "合同", ref="contract",
          writable_by=FINANCE_WRITES),
        F("method", T.CHOICE, "Method", "付款方式", choices=PAYMENT_METHODS,
          writable_by=FINANCE_WRITES),
        F("invoice_no", T.TEXT, "Invoice No.", "发票号", max_length=100, searchable=True,
          writable_by=FINANCE_WRITES),
        F("note", T.TEXT, "Note", "备注", max_length=2000, writable_by=FINANCE_WRITES),
        F("owner", T.TEXT, "Owner", "负责人", max_length=100, writable_by=FINANCE_WRITES),
        EXTERNAL_IDS_FIELD,  # set by the server from the API for systems
    ),
    title_field="invoice_no",
)
FX_RATE = Entity(
    "fx_rate", "Exchange rate", "汇率",
    (
        F("currency", T.TEXT, "Currency", "币种", required=True, check=Check.CURRENCY,
          writable_by=ADMIN_ONLY),
        F("rate", T.NUMBER, "CNY for one unit", "折合人民币", required=True,
          writable_by=ADMIN_ONLY),
        F("valid_from", T.DATE, "Valid from", "生效日期", required=True,
          writable_by=ADMIN_ONLY),
    ),
    title_field="currency",
    owned=False,
)
