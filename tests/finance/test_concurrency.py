"""Two people recording money on the same order at the same moment: every payment
counts, the account adds up, and a double-sent form still records once."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from finance.models import Account, LedgerEntry
from orders.models import Status
from orders.roles import Role
from tests.factories import make_user

from .conftest import pay


def run_together(calls):
    barrier, errors = threading.Barrier(len(calls)), []

    def run(call):
        try:
            barrier.wait()
            call()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_payments_recorded_at_once_by_two_users_both_count(order_in, users):
    order = order_in(Status.CONFIRMED)
    clerks = [users[Role.FINANCE], make_user(Role.FINANCE, username="finance-2")]
    amounts = [Decimal("10.01"), Decimal("20.02"), Decimal("30.03"), Decimal("40.04")]
    calls = [
        (lambda clerk=clerks[i % 2], amount=amount, i=i: pay(order, amount, by=clerk, key=f"k{i}"))
        for i, amount in enumerate(amounts)
    ]
    assert run_together(calls) == []
    account = Account.objects.get(order=order)
    assert LedgerEntry.objects.filter(order=order, kind="payment").count() == 4
    assert account.paid == Decimal("100.10")
    assert account.balance == order.total - Decimal("100.10")


@pytest.mark.django_db(transaction=True)
def test_the_same_form_sent_twice_at_once_records_once(order_in, users):
    order = order_in(Status.CONFIRMED)
    clerk = users[Role.FINANCE]
    calls = [lambda: pay(order, Decimal("5.00"), by=clerk, key="same-token")] * 2
    assert run_together(calls) == []
    assert LedgerEntry.objects.filter(order=order, kind="payment").count() == 1
    assert Account.objects.get(order=order).paid == Decimal("5.00")
