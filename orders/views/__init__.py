"""The orders pages

A package of modules by concern; the names are re-exported here."""

from .dashboards import (  # noqa: F401
    ManagerDashboard,
    SalesDashboard,
)
from .public import (  # noqa: F401
    MAIN_PATH,
    PLACED_ORDERS_COOKIE,
    PLACED_ORDERS_KEPT,
    _limited_rate,
    _new_form_token,
    _public_response,
    _remember_placed_order,
    _render_public_status,
    _see_other,
    customer_confirm,
    online_order,
    online_order_received,
    public_change_request,
    public_lookup,
    public_status,
)
from .staff import (  # noqa: F401
    change_request_decide,
    customer_lookup,
    healthz,
    order_action,
    order_comment,
    order_create,
    order_customer,
    order_detail,
    order_document,
    order_edit,
    order_list,
    order_new_date,
    order_partial,
    order_verify,
    process,
    render_detail,
)
