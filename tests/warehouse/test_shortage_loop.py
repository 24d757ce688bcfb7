"""The shortage loop: the warehouse finds stock short, Sales is told at once (a task
with a due time and an email), Sales records the new date agreed with the customer,
the customer is told, and received goods send the order back to the warehouse."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from orders import emails
from orders import services as order_services
from orders.models import DeliveryPromise, FollowUp, Notification, NotificationKind, Status
from orders.roles import Role
from tests.factories import CustomerFactory, ProductFactory, make_user, place, promise_date
from warehouse import services


@pytest.fixture
def short_order(users):
    """A confirmed order for 5 units of LAMP-1 with only 2 in stock, sold by users["Sales"]."""
    sales = users[Role.SALES]
    sales.email = "li.na@o2d.example"
    sales.save()
    lamp = ProductFactory(sku="LAMP-1")
    services.receive_goods(services.stock_item_for(lamp).pk, 2, by=None)
    order = place(
        lines=[order_services.LineRequest(lamp, 5)],
        customer=CustomerFactory(email="kehu@example.cn", language="zh-hans"),
        salesperson=sales,
    )
    return order_services.confirm_order(order.pk, by=sales, promised_date=promise_date())


def acknowledge(order, users):
    return services.acknowledge_order(order.pk, by=users[Role.WAREHOUSE])


@pytest.mark.django_db
def test_shortage_gives_sales_a_task_with_a_due_time_and_an_email(short_order, users):
    before = timezone.now()
    shortages = acknowledge(short_order, users)
    assert [(s.sku, s.missing) for s in shortages] == [("LAMP-1", 3)]
    short_order.refresh_from_db()
    assert short_order.status == Status.BACKORDERED
    task = FollowUp.objects.get(order=short_order)
    assert (task.reason, task.assignee, task.done_at) == ("shortage", users[Role.SALES], None)
    assert before + timedelta(hours=2) <= task.due_at <= timezone.now() + timedelta(hours=2)
    alert = Notification.objects.get(order=short_order, kind=NotificationKind.SHORTAGE_ALERT)
    assert alert.to == "li.na@o2d.example"
    assert emails.deliver(alert.pk)
    message = mail.outbox[-1]
    assert message.to == ["li.na@o2d.example"]
    assert short_order.number in message.subject
    assert "LAMP-1" in message.body and "5" in message.body
    assert short_order.get_absolute_url() in message.body


@pytest.mark.django_db
def test_without_a_salesperson_every_sales_user_with_an_email_is_told(users):
    make_user(Role.SALES, username="sales-a", email="a@o2d.example")
    make_user(Role.SALES, username="sales-b", email="b@o2d.example")
    make_user(Role.SALES, username="sales-gone", email="c@o2d.example", is_active=False)
    lamp = ProductFactory()
    order = place(lines=[order_services.LineRequest(lamp, 1)])
    order_services.confirm_order(order.pk, by=users[Role.SALES], promised_date=promise_date())
    acknowledge(order, users)
    sent_to = set(
        Notification.objects.filter(kind=NotificationKind.SHORTAGE_ALERT).values_list(
            "to", flat=True
        )
    )
    assert sent_to == {"a@o2d.example", "b@o2d.example"}


@pytest.mark.django_db
def test_the_task_shows_on_the_sales_dashboard_and_escalates_when_late(short_order, users, client):
    acknowledge(short_order, users)
    client.force_login(users[Role.SALES])
    html = client.get("/sales/", HTTP_ACCEPT_LANGUAGE="en").text
    table = html.split('id="follow-up-table"')[1].split("</table>")[0]
    assert short_order.number in table
    assert "Short of stock" in table
    assert order_services.escalate_overdue_follow_ups() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=2, minutes=1), tick=False):
        assert order_services.escalate_overdue_follow_ups() == 1
    assert FollowUp.objects.get(order=short_order).escalated_at is not None


@pytest.mark.django_db
def test_sales_records_the_new_date_and_the_customer_is_told(short_order, users, client):
    acknowledge(short_order, users)
    new_date = timezone.localdate() + timedelta(days=12)
    client.force_login(users[Role.SALES])
    response = client.post(
        f"/orders/{short_order.number}/new-date/",
        {"date": new_date.isoformat(), "method": "phone", "agreed": "客户同意延期"},
    )
    assert response.status_code == 302
    short_order.refresh_from_db()
    assert short_order.promised_date == new_date
    # Every promised date is kept, in order.
    assert list(short_order.promises.values_list("date", flat=True)) == [
        promise_date(),
        new_date,
    ]
    assert FollowUp.objects.get(order=short_order).done_at is not None
    event = short_order.events.get(code="promise_changed")
    assert event.public and event.actor == users[Role.SALES]
    notice = Notification.objects.get(kind=NotificationKind.NEW_DELIVERY_DATE)
    assert emails.deliver(notice.pk)
    assert new_date.isoformat() in mail.outbox[-1].body
    assert mail.outbox[-1].to == ["kehu@example.cn"]
    # The status page shows the new date, and says so in the history.
    page = client.get(short_order.get_public_url(), HTTP_ACCEPT_LANGUAGE="en").text
    assert new_date.isoformat() in page.split('id="promised-date"')[1].split("</dd>")[0]
    assert f"New delivery date: {new_date.isoformat()}" in page
    assert "客户同意延期" not in page  # what was agreed stays internal


@pytest.mark.django_db
def test_each_new_date_is_a_new_email(short_order, users):
    acknowledge(short_order, users)
    sales = users[Role.SALES]
    for days in (10, 14):
        order_services.record_new_delivery_date(
            short_order.pk, by=sales, date=timezone.localdate() + timedelta(days=days)
        )
    assert Notification.objects.filter(kind=NotificationKind.NEW_DELIVERY_DATE).count() == 2
    assert DeliveryPromise.objects.filter(order=short_order).count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"date": "2020-01-01", "method": "phone"}, 400),
        ({"date": "not a date", "method": "phone"}, 400),
        ({"date": "", "method": "phone"}, 400),
        ({"date": "2099-01-01", "method": "carrier pigeon"}, 400),
    ],
)
def test_bad_new_dates_are_refused_and_change_nothing(short_order, users, client, data, status):
    acknowledge(short_order, users)
    client.force_login(users[Role.SALES])
    response = client.post(f"/orders/{short_order.number}/new-date/", data)
    assert response.status_code == status
    assert 'class="error"' in response.text or "errorlist" in response.text
    assert short_order.promises.count() == 1
    assert not Notification.objects.filter(kind=NotificationKind.NEW_DELIVERY_DATE).exists()


@pytest.mark.django_db
def test_only_sales_records_new_dates(short_order, users, client):
    acknowledge(short_order, users)
    client.force_login(users[Role.WAREHOUSE])
    response = client.post(
        f"/orders/{short_order.number}/new-date/", {"date": "2099-01-01", "method": "phone"}
    )
    assert response.status_code == 403
    assert short_order.promises.count() == 1


@pytest.mark.django_db
def test_no_new_date_for_a_closed_or_cancelled_order(users, order_in):
    order = order_in(Status.CANCELLED)
    with pytest.raises(order_services.TransitionNotAllowed):
        order_services.record_new_delivery_date(order.pk, by=users[Role.SALES], date=promise_date())


@pytest.mark.django_db
def test_received_goods_send_the_order_back_to_the_warehouse_queue(short_order, users, client):
    acknowledge(short_order, users)
    item = services.stock_item_for(short_order.lines.get().product)
    client.force_login(users[Role.WAREHOUSE])
    response = client.post(
        f"/warehouse/stock/{item.pk}/", {"kind": "receive", "quantity": 3, "reason": "PO-77"}
    )
    assert response.status_code == 302
    short_order.refresh_from_db()
    assert short_order.status == Status.CONFIRMED
    item.refresh_from_db()
    assert (item.on_hand, item.reserved) == (5, 5)
    html = client.get("/warehouse/?partial=1").text
    to_pick = html.split('id="queue-to_pick"')[1].split("</section>")[0]
    assert short_order.number in to_pick
