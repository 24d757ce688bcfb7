"""Signals other apps listen to; orders itself imports no department app."""

from django.dispatch import Signal

# Sent after the transaction that changed an order's status has committed.
# Arguments: order_id, transition, from_status, to_status, actor_id.
order_transitioned = Signal()
