"""Everything that writes finance's records. Each action locks the order's row (so two
people recording payments for one order are serialised and both count), checks,
writes, keeps the account's totals (summed by the database) and writes the order's
timeline in the same transaction; emails leave only after commit.

Submissions are idempotent: each form carries a one-time token, and a token seen
before returns what it wrote the first time instead of writing again.

The ledger (``ledger``), invoices (``invoices``) and the closing request
(``closing``) each have their module; callers import them from here.
"""

from ._common import MAX_AMOUNT, MONEY_FIELD, NOTE_MAX, REASON_MAX
from .closing import (
    acknowledge_request,
    add_document,
    approve,
    escalate_closing_requests,
    open_closing_request,
    override_item,
    send_back,
    submit_request,
)
from .invoices import InvoiceDetails, record_invoice, void_invoice
from .ledger import (
    GOODS_REASONS,
    MoneyMovement,
    _recompute_account,
    _write_entry,
    add_charge,
    charge_freight,
    credit_return,
    record_payment,
    record_refund,
    reverse_entry,
    sync_goods_charge,
)

__all__ = [
    "GOODS_REASONS",
    "MAX_AMOUNT",
    "MONEY_FIELD",
    "NOTE_MAX",
    "REASON_MAX",
    "InvoiceDetails",
    "MoneyMovement",
    "_recompute_account",
    "_write_entry",
    "acknowledge_request",
    "add_charge",
    "add_document",
    "approve",
    "charge_freight",
    "credit_return",
    "escalate_closing_requests",
    "open_closing_request",
    "override_item",
    "record_invoice",
    "record_payment",
    "record_refund",
    "reverse_entry",
    "send_back",
    "submit_request",
    "sync_goods_charge",
    "void_invoice",
]
