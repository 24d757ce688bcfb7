import re
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from orders import services
from orders.models import Order
from tests.factories import CustomerFactory, ProductFactory, place

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_number_is_local_date_with_sequence():
    # 23:30 UTC on the 27th is already the 28th in Shanghai.
    with time_machine.travel(datetime(2026, 11, 27, 23, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        first = place()
        second = place()
    assert first.number == "20261128-0001"
    assert second.number == "20261128-0002"
    with time_machine.travel(datetime(2026, 11, 29, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert place().number == "20261129-0001"


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_in_threads_gives_unique_gapless_numbers():
    customer = CustomerFactory()
    product = ProductFactory()
    threads_count, per_thread = 12, 5
    numbers, errors = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(threads_count)

    def worker():
        try:
            barrier.wait()
            for _ in range(per_thread):
                order = place(customer=customer, lines=[services.LineRequest(product, 1)])
                with lock:
                    numbers.append(order.number)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    total = threads_count * per_thread
    assert len(numbers) == total
    assert len(set(numbers)) == total
    assert all(re.fullmatch(r"\d{8}-\d{4}", n) for n in numbers)
    sequences = sorted(int(n.split("-")[1]) for n in numbers)
    assert sequences == list(range(1, total + 1))
    assert Order.objects.count() == total
