"""Query budgets for every staff page, dashboard and htmx fragment.

Each page is opened as the role that uses it, with 10 orders and with 200 orders of
every kind (tests/performance/conftest.py). It must answer 200 (204: an idle refresh),
run the same number of queries at both sizes (a query per row would grow with the
orders) and stay within its budget below. Dashboards and htmx fragments may run at
most 15 queries; every other page's budget is what it runs today, so any added query
fails here first.

A new staff URL needs a line in BUDGETS (or in POST_ONLY or PUBLIC_ELSEWHERE):
test_every_staff_url_has_a_budget fails until it has one.

Each page is counted with an empty cache and with the clock standing still. All pages
are measured once per module by the ``measured`` fixture (the orders are built once);
each test then checks one page's numbers, so a failure names the page, its counts at
both sizes and the queries it repeated.
"""

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from orders.roles import Role

from .conftest import LARGE, SMALL, World, clients_for, copy_orders, make_world

# The orders are built once per module (conftest.world_db); the mark also makes
# pytest-django create the test database when only some of these tests run.
pytestmark = pytest.mark.django_db

# Dashboards and htmx fragments: at most this many queries (the product owner's limit).
DASHBOARD_LIMIT = 15

# Queries per page with 10 and with 200 orders (the same at both sizes).
BUDGETS = {
    # orders
    # The returns to decide and waiting for the goods (feedback's panel): one query.
    "sales_dashboard": 15,
    "sales_dashboard?partial=1": 13,
    "sales_dashboard[idle]": 4,
    "sales_dashboard[hx]": 13,
    # The escalated closing requests (finance's panel): one query for their list; the
    # late survey follow-ups (feedback's panel): one; the manager's action items: one.
    "manager_dashboard": 12,
    "manager_dashboard?partial=1": 11,
    "manager_dashboard[idle]": 4,
    "manager_dashboard[hx]": 11,
    "order_list": 7,
    # A search finds its matches' ids first, bitmap scans only (SET LOCAL, and back).
    "order_list?q": 11,
    "order_list?status": 7,
    "order_list?filters": 11,
    "order_list?page=2": 7,
    "order_create": 7,
    "customer_lookup[hx]": 9,
    # The closing request's panel (finance): the request, and its documents if any;
    # the returns' panel (feedback): the returns, their lines and photos, the reasons.
    "order_detail[problem]": 24,
    "order_detail[to_acknowledge]": 18,
    "order_detail[placed]": 20,
    "order_edit": 13,
    "order_document": 4,
    # The return steps' clocks: one query; the process changes (latest 50 and count): one.
    "process": 9,
    # warehouse
    # The returned parcels to receive and to inspect (feedback's panel): one query.
    "warehouse:dashboard": 15,
    "warehouse:dashboard?partial=1": 15,
    "warehouse:dashboard[idle]": 5,
    "warehouse:dashboard[hx]": 15,
    "warehouse:batch_pick_list": 8,
    "warehouse:batch_pick_list?orders": 8,
    "warehouse:stock": 5,
    "warehouse:stock?q": 5,
    "warehouse:order[to_pick]": 16,
    "warehouse:order[to_review]": 16,
    "warehouse:pick_list": 11,
    "warehouse:packing_slip": 9,
    "warehouse:labels": 9,
    # logistics
    # The returns' carrier pickups to book and the survey follow-ups (feedback's panels):
    # one query each; the user's review action items: one.
    "logistics:dashboard": 13,
    "logistics:dashboard?partial=1": 12,
    "logistics:dashboard[idle]": 4,
    "logistics:dashboard[hx]": 12,
    "logistics:problems": 4,
    "logistics:order[to_ship]": 18,
    "logistics:order[shipped]": 20,
    # feedback
    # The returns to decide and the approved returns: two queries.
    "feedback:cases": 10,
    "feedback:photo": 4,
    "feedback:return_photo": 4,
    "feedback:return_label": 6,
    # The return with its order, reason and receiver, and its lines with their order lines.
    "feedback:receive_return": 6,
    "feedback:inspect_return": 6,
    "feedback:receive_scan": 4,
    # finance
    # The session's 4, the counts, the balances by age, the closing step's target (2),
    # the checklist verdict of every request in review, the queues and the refunds due.
    "finance:dashboard": 11,
    "finance:dashboard?partial=1": 11,
    "finance:dashboard[idle]": 4,
    "finance:dashboard[hx]": 11,
    # The checklist's returns item (feedback) reads the open returns: one query.
    "finance:request": 24,
    "finance:request[awaiting_receipt]": 22,
    "finance:closing_requests": 6,
    "finance:document": 4,
    "finance:invoice_document": 4,
    "finance:export_ledger": 4,
    "finance:export_closed": 4,
    # The process review (orders/review, orders/meeting_views.py). The pack: the
    # session's 3, the period's figures per section (steps, hand-offs, rework, scores,
    # process changes, open action items), each one grouped query.
    "review_pack": 28,
    "review_pack_pdf": 28,
    "review_pack_csv": 28,
    "review_meetings": 6,
    "new_review_meeting": 3,
    "review_meeting": 6,
    # Step 8: the survey analysis (feedback/analysis.py).
    "feedback:survey_analysis": 13,
    # the health probe (orders.views.healthz, anonymous)
    "healthz": 0,
}

# Pages whose count may grow with the orders, by how much from 10 to 200 orders, and why.
ALLOWED_GROWTH: dict[str, int] = {}

# Pages another engineer is fixing (orders/ and logistics/ are theirs): the reason
# names the repeated query. strict: the test fails once the page is fixed, as a
# reminder to remove the line.
XFAIL: dict[str, str] = {}

# Staff URLs that only take POST (a GET is refused with 405, tested below).
POST_ONLY = {
    "order_action",
    "order_comment",
    "order_verify",
    "order_customer",
    "order_new_date",
    "order_partial",
    "change_request_decide",
    "warehouse:stock_change",
    "warehouse:acknowledge",
    "warehouse:reserve",
    "warehouse:scan",
    "warehouse:discrepancy",
    "warehouse:package_add",
    "warehouse:package_remove",
    "warehouse:packed",
    "warehouse:review",
    "logistics:ship",
    "logistics:add_event",
    "logistics:resolve",
    "feedback:phone_receipt",
    "feedback:resolve_case",
    "feedback:record_return",
    "feedback:approve_return",
    "feedback:refuse_return",
    "feedback:settle_return",
    "feedback:book_pickup",
    "feedback:resolve_survey_follow_up",
    "update_action",
    "finance:payment",
    "finance:refund",
    "finance:charge",
    "finance:reverse",
    "finance:invoice",
    "finance:void_invoice",
    "finance:acknowledge",
    "finance:send_back",
    "finance:approve",
    "finance:override",
    "finance:submit",
    "finance:add_document",
}

# The customers' pages and the carriers' webhook: their budgets are in
# tests/orders/test_public_budgets.py.
PUBLIC_ELSEWHERE = {
    "public_status",
    "public_change_request",
    "public_lookup",
    "online_order",
    "customer_confirm",
    "online_order_received",
    "feedback:confirm_receipt",
    "feedback:report_problem",
    "feedback:request_return",
    "feedback:public_return_label",
    "feedback:send_back",
    "feedback:survey",
    "feedback:survey_opt_out",
    "logistics:webhook",
}

STAFF_APPS = ("orders", "warehouse", "logistics", "feedback", "finance")


@dataclass(frozen=True)
class Case:
    key: str  # its line in BUDGETS
    url_name: str
    role: str
    url: Callable[[World], str]
    htmx: bool = False
    # The live section's refresh when nothing changed: ?partial=1&since=<its version>,
    # answered 204 without the queues' queries.
    idle: bool = False
    # A page that answers with a redirect (a scanned RMA number opens its return).
    redirect: bool = False

    @property
    def is_dashboard_or_fragment(self) -> bool:
        return self.htmx or "dashboard" in self.key or "partial=1" in self.key

    @property
    def status(self) -> int:
        return 204 if self.idle else 302 if self.redirect else 200


def _page(name, kind=None, query=""):
    def build(world):
        args = [world.first(kind).number] if kind else []
        return reverse(name, args=args) + query

    return build


def _dashboard(name, role):
    return [
        Case(name, name, role, _page(name)),
        Case(f"{name}?partial=1", name, role, _page(name, query="?partial=1")),
        Case(f"{name}[hx]", name, role, _page(name), htmx=True),
        Case(f"{name}[idle]", name, role, _page(name, query="?partial=1"), htmx=True, idle=True),
    ]


def _document(world):
    document = world.first("placed").documents.get()
    return reverse("order_document", args=[document.order.number, document.pk])


def _photo(world):
    case = world.first("problem").problem_cases.get()
    return reverse("feedback:photo", args=[case.photos.get().pk])


def _return_photo(world):
    request = world.first("problem").returns.order_by("pk").last()
    return reverse("feedback:return_photo", args=[request.photos.get().pk])


def _return_label(world):
    from feedback import returns

    request = world.first("problem").returns.order_by("pk").last()
    if request.status == "requested":
        returns.approve_return(request.pk, by=world.users[Role.SALES], outcome="refund")
    return reverse("feedback:return_label", args=[request.pk])


def _receive_return(world):
    _return_label(world)
    request = world.first("problem").returns.order_by("pk").last()
    return reverse("feedback:receive_return", args=[request.pk])


def _scan(world):
    request = world.first("problem").returns.order_by("pk").last()
    return reverse("feedback:receive_scan") + f"?rma={request.rma_number or 'R-NONE'}"


def _inspect_return(world):
    """A return of the order awaiting receipt, received by the warehouse (each step
    taken once, whatever the number of calls)."""
    from feedback import return_goods, returns

    order = world.first("awaiting_receipt")
    line = order.lines.first()
    request, _created = returns.request_return(
        order.pk, reason_code="damaged", quantities={line.pk: 1}, key="perf-inspect"
    )
    if request.status == "requested":
        request = returns.approve_return(request.pk, by=world.users[Role.SALES], outcome="refund")
    if request.status == "approved":
        return_goods.receive(
            request.pk, by=world.users[Role.WAREHOUSE], quantities={line.pk: 1}, note="ok"
        )
    return reverse("feedback:inspect_return", args=[request.pk])


def _review_meeting(world):
    """A meeting with an open action item for the Sales user (made once)."""
    from datetime import timedelta

    from orders.models import ActionItem, ReviewMeeting

    meeting = ReviewMeeting.objects.order_by("pk").first()
    if meeting is None:
        today = timezone.localdate()
        meeting = ReviewMeeting.objects.create(
            held_on=today,
            departments=[Role.SALES, Role.WAREHOUSE],
            period_start=today - timedelta(days=30),
            period_end=today - timedelta(days=1),
            findings="Confirmations wait too long on Mondays.",
            recorded_by=world.users[Role.MANAGER],
        )
        ActionItem.objects.create(
            meeting=meeting,
            title="Call back before noon",
            owner=world.users[Role.SALES],
            due_on=today + timedelta(days=7),
        )
    return reverse("review_meeting", args=[meeting.pk])


def _review_meetings(world):
    _review_meeting(world)
    return reverse("review_meetings")


def _closing_document(world):
    request = world.first("problem").closing_request
    return reverse("finance:document", args=[request.documents.get().pk])


def _invoice_document(world):
    return reverse("finance:invoice_document", args=[world.first("problem").invoices.get().pk])


def _export(name):
    def url(world):
        today = timezone.localdate().isoformat()
        return reverse(name) + "?" + _urlencode(start=today, end=today)

    return url


def _to_pick_numbers(world):
    numbers = " ".join(order.number for order in world.orders["to_pick"])
    return reverse("warehouse:batch_pick_list") + "?" + _urlencode(orders=numbers)


def _urlencode(**params):
    from urllib.parse import urlencode

    return urlencode(params)


def _filters(world):
    today = timezone.localdate().isoformat()
    query = _urlencode(channel="phone", date_from=today, date_to=today, q="王")
    return reverse("order_list") + "?" + query


CASES = [
    *_dashboard("sales_dashboard", Role.SALES),
    *_dashboard("manager_dashboard", Role.MANAGER),
    Case("order_list", "order_list", Role.SALES, _page("order_list")),
    Case("order_list?q", "order_list", Role.SALES, _page("order_list", query="?q=王小明")),
    Case(
        "order_list?status", "order_list", Role.SALES, _page("order_list", query="?status=shipped")
    ),
    Case("order_list?filters", "order_list", Role.SALES, _filters),
    Case("order_list?page=2", "order_list", Role.SALES, _page("order_list", query="?page=2")),
    Case("order_create", "order_create", Role.SALES, _page("order_create")),
    Case(
        "customer_lookup[hx]",
        "customer_lookup",
        Role.SALES,
        _page("customer_lookup", query="?customer_name=王小明&customer_phone=&customer_email="),
        htmx=True,
    ),
    Case("order_detail[problem]", "order_detail", Role.SALES, _page("order_detail", "problem")),
    Case(
        "order_detail[to_acknowledge]",
        "order_detail",
        Role.SALES,
        _page("order_detail", "to_acknowledge"),
    ),
    Case("order_detail[placed]", "order_detail", Role.SALES, _page("order_detail", "placed")),
    Case("order_edit", "order_edit", Role.SALES, _page("order_edit", "placed")),
    Case("order_document", "order_document", Role.SALES, _document),
    Case("process", "process", Role.SALES, _page("process")),
    *_dashboard("warehouse:dashboard", Role.WAREHOUSE),
    Case(
        "warehouse:batch_pick_list",
        "warehouse:batch_pick_list",
        Role.WAREHOUSE,
        _page("warehouse:batch_pick_list"),
    ),
    Case(
        "warehouse:batch_pick_list?orders",
        "warehouse:batch_pick_list",
        Role.WAREHOUSE,
        _to_pick_numbers,
    ),
    Case("warehouse:stock", "warehouse:stock", Role.WAREHOUSE, _page("warehouse:stock")),
    Case(
        "warehouse:stock?q",
        "warehouse:stock",
        Role.WAREHOUSE,
        _page("warehouse:stock", query="?q=PERF"),
    ),
    Case(
        "warehouse:order[to_pick]",
        "warehouse:order",
        Role.WAREHOUSE,
        _page("warehouse:order", "to_pick"),
    ),
    Case(
        "warehouse:order[to_review]",
        "warehouse:order",
        Role.WAREHOUSE,
        _page("warehouse:order", "to_review"),
    ),
    Case(
        "warehouse:pick_list",
        "warehouse:pick_list",
        Role.WAREHOUSE,
        _page("warehouse:pick_list", "to_pick"),
    ),
    Case(
        "warehouse:packing_slip",
        "warehouse:packing_slip",
        Role.WAREHOUSE,
        _page("warehouse:packing_slip", "to_review"),
    ),
    Case(
        "warehouse:labels",
        "warehouse:labels",
        Role.WAREHOUSE,
        _page("warehouse:labels", "to_review"),
    ),
    *_dashboard("logistics:dashboard", Role.LOGISTICS),
    Case("logistics:problems", "logistics:problems", Role.LOGISTICS, _page("logistics:problems")),
    Case(
        "logistics:order[to_ship]",
        "logistics:order",
        Role.LOGISTICS,
        _page("logistics:order", "to_ship"),
    ),
    Case(
        "logistics:order[shipped]",
        "logistics:order",
        Role.LOGISTICS,
        _page("logistics:order", "shipped"),
    ),
    Case("feedback:cases", "feedback:cases", Role.SALES, _page("feedback:cases")),
    Case("feedback:photo", "feedback:photo", Role.SALES, _photo),
    Case("feedback:return_photo", "feedback:return_photo", Role.SALES, _return_photo),
    Case("feedback:return_label", "feedback:return_label", Role.SALES, _return_label),
    Case("feedback:receive_return", "feedback:receive_return", Role.WAREHOUSE, _receive_return),
    Case("feedback:inspect_return", "feedback:inspect_return", Role.MANAGER, _inspect_return),
    Case("feedback:receive_scan", "feedback:receive_scan", Role.WAREHOUSE, _scan, redirect=True),
    *_dashboard("finance:dashboard", Role.FINANCE),
    Case("finance:request", "finance:request", Role.FINANCE, _page("finance:request", "problem")),
    Case(
        "finance:request[awaiting_receipt]",
        "finance:request",
        Role.FINANCE,
        _page("finance:request", "awaiting_receipt"),
    ),
    Case(
        "finance:closing_requests",
        "finance:closing_requests",
        Role.SALES,
        _page("finance:closing_requests"),
    ),
    Case("finance:document", "finance:document", Role.SALES, _closing_document),
    Case("finance:invoice_document", "finance:invoice_document", Role.FINANCE, _invoice_document),
    Case(
        "finance:export_ledger",
        "finance:export_ledger",
        Role.FINANCE,
        _export("finance:export_ledger"),
    ),
    Case(
        "finance:export_closed",
        "finance:export_closed",
        Role.FINANCE,
        _export("finance:export_closed"),
    ),
    Case("review_pack", "review_pack", Role.MANAGER, _page("review_pack")),
    Case("review_pack_pdf", "review_pack_pdf", Role.MANAGER, _page("review_pack_pdf")),
    Case("review_pack_csv", "review_pack_csv", Role.MANAGER, _page("review_pack_csv")),
    Case("review_meetings", "review_meetings", Role.MANAGER, _review_meetings),
    Case("new_review_meeting", "new_review_meeting", Role.MANAGER, _page("new_review_meeting")),
    Case("review_meeting", "review_meeting", Role.MANAGER, _review_meeting),
    Case(
        "feedback:survey_analysis",
        "feedback:survey_analysis",
        Role.SALES,
        _page("feedback:survey_analysis"),
    ),
    Case("healthz", "healthz", None, _page("healthz")),  # the load balancer's probe
]


@dataclass
class Measurement:
    status: int
    queries: list[str]

    @property
    def count(self) -> int:
        return len(self.queries)


def measure(client, url, *, htmx=False, idle=False) -> Measurement:
    headers = {"HX-Request": "true"} if htmx else {}
    # The clock stands still: a dashboard's version changes with the minute.
    with time_machine.travel(timezone.now(), tick=False):
        if idle:
            html = client.get(url, headers=headers).content.decode()
            url += "&since=" + re.search(r"since=([^\"&]+)", html).group(1)
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, headers=headers)
            _read(response)
    return Measurement(response.status_code, [q["sql"] for q in captured.captured_queries])


def _read(response):
    """Read a file's content through the test client's wrapper (which closes the
    response without closing the test's database connection)."""
    if response.streaming:
        b"".join(response.streaming_content)


def repeated(queries: list[str], top=3) -> str:
    """The queries run more than once (numbers and strings blanked), most frequent first."""
    shapes = Counter(re.sub(r"'[^']*'|\b\d+\b", "?", sql) for sql in queries)
    lines = [f"{n} x {shape[:300]}" for shape, n in shapes.most_common(top) if n > 1]
    return "\n".join(lines) or "(no query repeated)"


def _html_instead_of_pdf(template, context):
    # The PDFs' templates are rendered (their queries count); WeasyPrint's layout,
    # which reads nothing but data: URLs, is skipped: it is most of this module's time.
    return render_to_string(template, context).encode()


@pytest.fixture(scope="module")
def measured(world_db):
    """Every case measured with SMALL orders, then with LARGE: {key: (small, large)}."""
    with mock.patch("orders.printing.render_pdf", _html_instead_of_pdf):
        return _measure_all()


def _measure_all():
    world = make_world()
    clients = clients_for(world)
    sizes = []
    for size in (SMALL, LARGE):
        world.grow(size)
        assert world.count == size
        sizes.append(
            {c.key: measure(clients[c.role], c.url(world), htmx=c.htmx, idle=c.idle) for c in CASES}
        )
    small, large = sizes
    return world, {key: (small[key], large[key]) for key in small}


def _params():
    for case in CASES:
        marks = []
        if case.key in XFAIL:
            marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[case.key]))
        yield pytest.param(case, id=case.key, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_page_stays_within_its_query_budget(measured, case):
    _world, results = measured
    small, large = results[case.key]
    assert (small.status, large.status) == (case.status, case.status)
    growth = ALLOWED_GROWTH.get(case.key, 0)
    assert large.count <= small.count + growth, (
        f"{case.key}: {small.count} queries with {SMALL} orders, {large.count} with "
        f"{LARGE}. Repeated with {LARGE}:\n{repeated(large.queries)}"
    )
    budget = BUDGETS[case.key]
    assert max(small.count, large.count) <= budget, (
        f"{case.key}: {small.count} / {large.count} queries, budget {budget}. "
        f"Repeated:\n{repeated(large.queries)}"
    )


def test_dashboards_and_fragments_have_budgets_of_at_most_15():
    over = {
        case.key: BUDGETS[case.key]
        for case in CASES
        if case.is_dashboard_or_fragment and BUDGETS[case.key] > DASHBOARD_LIMIT
    }
    assert not over


def test_budgets_name_only_measured_pages():
    assert set(BUDGETS) == {case.key for case in CASES}
    assert set(ALLOWED_GROWTH) <= set(BUDGETS) and set(XFAIL) <= set(BUDGETS)


def _staff_patterns(patterns=None, namespace="") -> dict:
    """{URL name: pattern} for every pattern whose view lives in one of the staff apps."""
    found = {}
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # Django's admin, not a staff page of O2D's
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found |= _staff_patterns(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            view = getattr(pattern.callback, "view_class", pattern.callback)
            if view.__module__.split(".")[0] in STAFF_APPS:
                found[namespace + pattern.name] = pattern
    return found


def test_every_staff_url_has_a_budget():
    measured_names = {case.url_name for case in CASES}
    names = set(_staff_patterns())
    assert names, "no staff URL found: the introspection is broken"
    missing = names - measured_names - POST_ONLY - PUBLIC_ELSEWHERE
    assert not missing, f"staff URLs without a query budget: {sorted(missing)}"
    overlap = (measured_names & POST_ONLY) | (measured_names & PUBLIC_ELSEWHERE)
    assert not overlap
    assert not (measured_names | POST_ONLY | PUBLIC_ELSEWHERE) - names, "stale names"


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_post_only_urls_refuse_get(client, users, name):
    """What POST_ONLY claims: a GET, even by a Manager, is refused with 405."""
    pattern = _staff_patterns()[name]
    args = {key: _sample(key) for key in pattern.pattern.converters}
    client.force_login(users[Role.MANAGER])
    assert client.get(reverse(name, kwargs=args)).status_code == 405


def _sample(key):
    return {"number": "20260101-0001", "pk": 1}[key]


# ---------------------------------------------------------------------------
# The batch pick list with 200 orders waiting


@pytest.fixture(scope="module")
def waiting(measured):
    """The world grown until 200 orders wait to be picked."""
    world, _results = measured
    world.add_copies({"to_pick": 200 - len(world.orders["to_pick"])})
    return world


def test_batch_pick_list_for_200_waiting_orders_runs_the_same_queries(waiting, measured):
    _world, results = measured
    client = clients_for(waiting)[Role.WAREHOUSE]
    url = reverse("warehouse:batch_pick_list")
    result = measure(client, url)
    assert result.status == 200
    assert result.count == results["warehouse:batch_pick_list"][0].count, repeated(result.queries)
    # Its speed is benchmarks/pages.py's to measure; here, that it shows all 200.
    assert client.get(url).content.count(b"<li><strong>") == 200
    # The same 200 orders asked for by number (the most a list takes): the same queries.
    numbers = " ".join(order.number for order in waiting.orders["to_pick"])
    chosen = measure(client, url + "?" + _urlencode(orders=numbers))
    assert chosen.status == 200
    assert chosen.count == result.count, repeated(chosen.queries)


# ---------------------------------------------------------------------------
# Finance's queues, Sales' closing requests and the managers' escalated requests with
# rows in every section. The world above has closing requests only with Sales (its
# "problem" orders): the pages below are measured again with one closing request in
# each state Finance works (to acknowledge, in review passing, in review blocked, sent
# back) and one cancelled order the customer paid for (a refund due), then with MANY of
# each, every request escalated to the managers each time. The count must not grow
# with the rows, and must stay within the page's budget in BUDGETS.

CLOSING_STATES = ("submitted", "passing", "blocked", "sent_back", "refund_due")
# How many of each with many rows: the dashboard shows the QUEUE_ROWS (25) longest
# waiting of each queue, and its two in-review queues share one list of 25, so 12 + 12.
MANY = {"submitted": 30, "passing": 12, "blocked": 12, "sent_back": 30, "refund_due": 30}
WITH_ROWS = {
    "finance:dashboard",
    "finance:dashboard?partial=1",
    "finance:dashboard[hx]",
    "finance:closing_requests",
    "manager_dashboard",
    "manager_dashboard?partial=1",
    "manager_dashboard[hx]",
}
# The sections of each page and the rows they show with MANY: Sales' queue also lists
# the world's 20 "problem" requests (with Sales), the managers' panel its first 25.
SECTIONS = {
    "finance:dashboard": {
        "to-acknowledge": 25,
        "in-review": 12,
        "blocked": 12,
        "sent-back": 25,
        "refunds-due": 25,
    },
    # Sales' queue shows each hand's oldest 25 (of 50 and 54), with the counts.
    "finance:closing_requests": {"with-sales": 25, "with-finance": 25},
    "manager_dashboard": {"escalated-closing": 25},
}


def _closing_order(world, state, n):
    """One order whose closing request is in ``state`` (or, for "refund_due", a
    cancelled order the customer paid for), driven there through the services."""
    from feedback import services as feedback
    from feedback.models import ReceiptMethod
    from finance import services as finance
    from finance.models import PaymentMethod
    from orders import services as order_services
    from tests.factories import settle

    from .conftest import build_order

    users = world.users
    sales, money = users[Role.SALES], users[Role.FINANCE]
    if state == "refund_due":
        order = build_order(world, "to_acknowledge", n)
        method = PaymentMethod.objects.get(code="bank_transfer")
        movement = finance.MoneyMovement(
            amount=order.total, happened_on=timezone.localdate(), method_id=method.pk
        )
        finance.record_payment(order.pk, movement, by=money, key=f"perf-refund-{n}")
        order_services.perform_action(order.pk, "cancel", by=sales, note="客户取消")
        return order
    # Delivered, its problem case resolved: every checklist item can pass.
    order = build_order(world, "awaiting_receipt", n)
    feedback.confirm_receipt(order.pk, how=ReceiptMethod.PHONE, by=sales, note="电话确认")
    if state != "sent_back":
        # Paid; invoiced unless it is to be blocked (the invoice item fails).
        settle(order, by=money, invoiced=0 if state == "blocked" else None)
    finance.submit_request(order.pk, by=sales, note=f"请审核 {n}")
    if state in ("passing", "blocked"):
        finance.acknowledge_request(order.pk, by=money)
    if state == "sent_back":
        finance.send_back(order.pk, by=money, reason="请补充付款凭证")
    return order


def _escalate_every_request():
    from finance import selectors as finance_selectors
    from finance import services as finance

    later = timezone.now() + finance_selectors.closing_target() + timedelta(hours=1)
    finance.escalate_closing_requests(now=later)


def _rows_in(html: str, section: str) -> int:
    """How many request rows (<tr data-order>) the section ``id=section`` shows."""
    match = re.search(rf'<section[^>]*\bid="{section}".*?</section>', html, re.S)
    assert match, f"no section {section}"
    return match.group(0).count("<tr data-order=")


def _stat(html: str, queue: str) -> int:
    """The number on the dashboard's stat link for ``queue``."""
    match = re.search(rf'data-queue="{queue}"><span class="n" data-count>(\d+)<', html)
    assert match, f"no stat {queue}"
    return int(match.group(1))


@dataclass
class ClosingQueues:
    results: dict  # {key: (one in each state, MANY in each)}
    rows: list  # [{(page, section): rows shown}, ...], one row each, then MANY
    blocked_behind: dict  # the dashboard with 20 more passing requests


@pytest.fixture(scope="module")
def closing_queues(measured):
    world, _results = measured
    clients = clients_for(world)
    cases = [case for case in CASES if case.key in WITH_ROWS]
    templates = {
        state: _closing_order(world, state, 1000 + n) for n, state in enumerate(CLOSING_STATES)
    }
    sizes, rows = [], []
    for many in (False, True):
        if many:
            copy_orders([templates[s] for s in CLOSING_STATES for _ in range(MANY[s] - 1)])
        _escalate_every_request()
        sizes.append({c.key: measure(clients[c.role], c.url(world), htmx=c.htmx) for c in cases})
        pages = {c.key: clients[c.role].get(c.url(world)).text for c in cases if c.key in SECTIONS}
        rows.append(
            {
                (name, section): _rows_in(pages[name], section)
                for name, sections in SECTIONS.items()
                for section in sections
            }
        )
    # 20 more requests in review that pass, waiting longer than the blocked ones.
    copy_orders([templates["passing"]] * 20)
    html = clients[Role.FINANCE].get(reverse("finance:dashboard")).text
    blocked_behind = {"rows": _rows_in(html, "blocked"), "stat": _stat(html, "blocked")}
    few, many = sizes
    results = {key: (few[key], many[key]) for key in few}
    return ClosingQueues(results, rows, blocked_behind)


def test_finance_queues_are_measured_with_rows_in_every_section(closing_queues):
    one, many = closing_queues.rows
    assert all(n >= 1 for n in one.values()), one
    assert many == {
        (page, section): n for page, sections in SECTIONS.items() for section, n in sections.items()
    }


@pytest.mark.parametrize("key", sorted(WITH_ROWS))
def test_finance_queues_run_the_same_queries_with_many_rows(closing_queues, key):
    one, many = closing_queues.results[key]
    assert (one.status, many.status) == (200, 200)
    assert many.count == one.count, (
        f"{key}: {one.count} queries with one request in each state, {many.count} with "
        f"{MANY}. Repeated with many:\n{repeated(many.queries)}"
    )


@pytest.mark.parametrize("key", sorted(WITH_ROWS))
def test_finance_queues_stay_within_their_budget_with_rows(closing_queues, key):
    one, many = closing_queues.results[key]
    assert max(one.count, many.count) <= BUDGETS[key], (
        f"{key}: {one.count} / {many.count} queries with rows in every queue, budget "
        f"{BUDGETS[key]}. Repeated:\n{repeated(many.queries)}"
    )


def test_blocked_requests_show_behind_many_passing_ones(closing_queues):
    assert closing_queues.blocked_behind == {"rows": MANY["blocked"], "stat": MANY["blocked"]}
