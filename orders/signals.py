"""Signals other apps listen to; orders itself imports no department app."""

from django.dispatch import Signal

# Sent after the transaction that changed an order's status has committed.
# Arguments: order_id, transition, from_status, to_status, actor_id.
order_transitioned = Signal()

# Sent inside the transaction that changes an order's status, after the change is
# saved: receivers keep their own rows in step (e.g. the warehouse releases stock
# reserved for a cancelled order). A receiver that raises undoes the whole change.
# Arguments: order, transition, from_status, to_status, by.
order_status_changing = Signal()

# Sent after commit when Sales records that the customer agreed to receive the
# available goods first (the warehouse then serves what it has). Argument: order_id.
partial_delivery_agreed = Signal()

# Sent inside the transaction that records the customer's receipt of an order (by the
# customer, by phone or automatically): finance opens the order's closing request.
# Arguments: order, receipt_id, at.
receipt_confirmed = Signal()

# Sent inside the transaction that changes an order's lines (and so its total):
# finance keeps the goods charge in step. Arguments: order, old_total, by.
order_total_changed = Signal()

# Sent inside the transaction that hands a shipment to a carrier: finance charges the
# customer's freight. Arguments: order, shipment_id, carrier (its name),
# tracking_number, freight_cost (the carrier's price in yuan), by, at.
shipment_dispatched = Signal()

# Sent inside the transaction that records the inspection of returned goods: the
# warehouse moves the stock (back on the shelf, written off or sent to repair).
# Arguments: order, return_id, rma, units (a list of (product_id, disposition,
# quantity), disposition one of "restock", "write_off", "repair"), by, at.
return_inspected = Signal()

# Sent inside the same transaction when the return ends in a refund: finance credits
# the customer for the goods (and their freight when the reason says so), which shows
# as a refund due. Arguments: order, return_id, rma, goods (a Decimal in the order's
# currency), include_freight, at.
return_refund_due = Signal()

# Sent inside the transaction that records a refund paid to the customer: feedback
# completes the return it paid for. Arguments: order, entry_id, refund_for, amount,
# balance (the order's balance after the refund), at.
refund_paid = Signal()

# Sent by the carrier webhook (outside any transaction) with the events whose tracking
# number is no outgoing shipment's: a parcel a customer sends back carries a carrier's
# tracking number too. Arguments: carrier (its code), events (dicts: id,
# tracking_number, type, happened_at, location, description). A receiver returns the
# ids of the events it recorded and of those it already had: {"accepted": [...],
# "duplicates": [...]}.
parcel_events = Signal()
