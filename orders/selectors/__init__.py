"""Queries that pages and tasks read. Nothing here writes.

A package of modules by concern; the names are re-exported here."""

from .catalogue import (  # noqa: F401
    product_from_row,
    products_on_sale,
)
from .change_requests import (  # noqa: F401
    change_requests_for,
    pending_change_requests,
)
from .customers import (  # noqa: F401
    matching_customers,
    possible_customer_filter,
    possible_customers,
)
from .dashboards import (  # noqa: F401
    FINISHED_COUNT_DAYS,
    QUEUE_FIELDS,
    QUEUE_SIZE,
    VERIFIED,
    Queue,
    QueueSpec,
    escalated_follow_ups,
    late_orders,
    no_answer_filter,
    open_follow_ups,
    queue,
    queues,
    status_counts,
)
from .public import (  # noqa: F401
    masked_first_name,
    order_for_lookup,
    order_for_public,
    order_from_confirm_link,
    public_timeline,
)
from .search import (  # noqa: F401
    ORDER_NUMBER,
    SEARCH_COUNT_LIMIT,
    SEARCH_SORT_LIMIT,
    TRIGRAM_MIN_LENGTH,
    order_search,
    search_orders,
)
from .staff_order import (  # noqa: F401
    available_actions,
    order_for_staff,
)
