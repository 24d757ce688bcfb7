"""What must hold before an order may be closed: the closing checklist.

Closing is step 7 of the process: Finance closes an order only when every item of its
checklist passes. The items come from the departments that own the records (the
receipt and problem cases from feedback, shipments and delivery exceptions from
logistics, money from finance), each registered from its AppConfig.ready(), so that
``orders`` knows none of them, as with the panels (``orders/panels.py``).

A provider is a callable ``provider(orders) -> {order_id: [Check, ...]}`` that reads
any number of orders in a constant number of queries (the Finance dashboard shows the
failing items of every request it lists). A gate is a callable
``gate(order) -> bool`` that must also hold (finance's: its closing request is under
review and every item passes or was overridden by a manager). ``Order.close`` is
guarded by ``may_close``, so no path (page, admin, task) closes an order past them.

A provider also names, for each required item, the same question asked of the
database (a ``Condition``: an expression true when the item fails, for an order
given by reference). The Finance dashboard splits every request in review into
"ready" and "blocked" with them in one query, at any number of requests, and shows
the failing items' labels; the checklist itself (and the gate) stay in Python.
``tests/finance/test_closing.py`` checks that both answers agree item by item.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Exists, Expression, OuterRef
from django.utils.translation import gettext_lazy as _

from .models import ChangeRequestStatus, DeliveryChangeRequest


@dataclass(frozen=True)
class Check:
    """One checklist item: ``key`` is stable (overrides name it), ``label`` what it
    asks, ``passed`` its answer, ``detail`` why not, ``links`` (text, url) pairs to
    its evidence. An item that is not ``required`` only lists documents (the
    packing slip and labels): it never blocks closing."""

    key: str
    label: str
    passed: bool
    detail: str = ""
    links: tuple = field(default_factory=tuple)
    required: bool = True


@dataclass(frozen=True)
class Condition:
    """A required item asked of the database: ``fails(order)`` is a boolean
    expression, true when the item fails for the order that ``order`` (an OuterRef to
    an order's id) refers to. ``label`` is the item's label, as its Check has it."""

    key: str
    label: str
    fails: Callable[[OuterRef], Expression]


Provider = Callable[..., list[Check]]
Gate = Callable[..., bool]

_PROVIDERS: list[tuple[int, Provider, tuple[Condition, ...]]] = []
_GATES: list[Gate] = []


def register(provider: Provider, *, position: int = 100, conditions=()) -> None:
    """Add ``provider``'s items to every order's checklist; lower positions first.
    ``conditions``: one Condition per required item it gives."""
    if any(registered is provider for _, registered, _conditions in _PROVIDERS):
        return
    _PROVIDERS.append((position, provider, tuple(conditions)))
    _PROVIDERS.sort(key=lambda entry: entry[0])


def conditions() -> list[Condition]:
    """Every required item's Condition, in the checklist's order."""
    return [condition for _, _provider, found in _PROVIDERS for condition in found]


def register_gate(gate: Gate) -> None:
    """``gate(order)`` must also be true before the order may be closed."""
    if gate not in _GATES:
        _GATES.append(gate)


def checklists(orders) -> dict[int, list[Check]]:
    """Every item of each order's checklist, from every department, in order."""
    orders = list(orders)
    items: dict[int, list[Check]] = {order.pk: [] for order in orders}
    if not orders:
        return items
    for _position, provider, _conditions in _PROVIDERS:
        for order_id, checks in provider(orders).items():
            items[order_id].extend(checks)
    return items


def checklist(order) -> list[Check]:
    """Every item of ``order``'s checklist."""
    return checklists([order])[order.pk]


def may_close(order) -> bool:
    """True when every gate holds (without gates: when every item passes)."""
    if _GATES:
        return all(gate(order) for gate in _GATES)
    return all(item.passed for item in checklist(order) if item.required)


CHANGE_REQUESTS = Condition(
    "change_requests",
    _("No change request waiting for an answer"),
    lambda order: Exists(
        DeliveryChangeRequest.objects.filter(order=order, status=ChangeRequestStatus.PENDING)
    ),
)


def orders_checks(orders) -> dict[int, list[Check]]:
    """What orders owns: no delivery change request waits for an answer."""
    pending = set(
        DeliveryChangeRequest.objects.filter(
            order__in=[order.pk for order in orders], status=ChangeRequestStatus.PENDING
        ).values_list("order_id", flat=True)
    )
    return {
        order.pk: [
            Check(
                CHANGE_REQUESTS.key,
                CHANGE_REQUESTS.label,
                order.pk not in pending,
                _("The customer asked for a change that no one has answered.")
                if order.pk in pending
                else "",
                ((_("Order"), order.get_absolute_url()),),
            )
        ]
        for order in orders
    }
