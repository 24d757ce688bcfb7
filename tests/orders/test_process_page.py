import pytest

from orders.models import Order, ProcessStep, Status
from orders.roles import Role


@pytest.mark.django_db
def test_process_is_seeded_with_the_eight_steps_in_three_languages():
    steps = list(ProcessStep.objects.all())
    assert [s.position for s in steps] == list(range(1, 9))
    confirmation = ProcessStep.objects.get(code="confirmation")
    assert confirmation.target.total_seconds() == 24 * 3600
    assert confirmation.role == Role.SALES
    assert confirmation.name_en == "Order confirmation"
    assert confirmation.name_zh_hans == "订单确认"
    assert confirmation.name_zh_hant == "訂單確認"


@pytest.mark.django_db
def test_process_page_draws_every_state_and_transition_of_the_machine(client, users):
    client.force_login(users[Role.LOGISTICS])
    html = client.get("/process/", HTTP_ACCEPT_LANGUAGE="en").text
    for status in Status.values:
        assert f'data-state="{status}"' in html
    transitions = {t.name for t in Order._meta.get_field("status").get_all_transitions(Order)}
    # with repick (a failed review) and await_rest (the rest of a partial delivery)
    assert len(transitions) == 10
    assert html.count("<tr><td>") == len(transitions)
    assert "Order confirmation" in html
    assert "24 hours" in html


@pytest.mark.django_db
def test_process_page_in_chinese_uses_the_translated_steps(client, users):
    client.force_login(users[Role.SALES])
    simplified = client.get("/process/", HTTP_ACCEPT_LANGUAGE="zh-CN").text
    traditional = client.get("/process/", HTTP_ACCEPT_LANGUAGE="zh-TW").text
    assert "订单确认" in simplified
    assert "订单处理" in simplified
    assert "訂單確認" in traditional


@pytest.mark.django_db
def test_edited_step_shows_on_the_process_page(client, users):
    ProcessStep.objects.filter(code="processing").update(how_en="Scan every carton twice.")
    client.force_login(users[Role.WAREHOUSE])
    html = client.get("/process/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "Scan every carton twice." in html


@pytest.mark.django_db
def test_the_process_page_shows_the_return_steps_as_the_admin_set_them(client, users):
    from datetime import timedelta

    from orders.models import ReturnStep

    ReturnStep.objects.filter(code="inspection").update(target=timedelta(hours=36))
    client.force_login(users["Warehouse"])
    html = client.get("/process/", HTTP_ACCEPT_LANGUAGE="en").text
    section = html[html.index('id="return-steps"') :]
    for code in ("deciding", "sending", "inspection", "refund"):
        assert f'data-step="{code}"' in section
    row = section[section.index('data-step="inspection"') :]
    assert "36 hours" in row[: row.index("</tr>")]
