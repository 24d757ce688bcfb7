"""Everything that writes an order. Each business action is one function here, used
by the staff pages, the admin and the Celery tasks alike.

Every action follows the same order: lock the order row (select_for_update), check,
transition, save, write the timeline event, and only after commit do anything that
leaves the database (signals to other apps, emails, tasks).

A package of modules by concern; the names are re-exported here."""

from .change_requests import (  # noqa: F401
    CHANGE_INSTRUCTIONS_MAX,
    CHANGE_REASON_MAX,
    _lock_change_request,
    _require_sales,
    _same_address,
    approve_delivery_change,
    refuse_delivery_change,
    request_delivery_change,
    why_not_changeable,
)
from .comments import (  # noqa: F401
    COMMENT_MAX_LENGTH,
    add_comment,
)
from .edits import (  # noqa: F401
    CHANGEABLE_FIELDS,
    _apply_fields,
    _shown,
    change_order,
)
from .errors import (  # noqa: F401
    OrderActionError,
    OrderChanged,
    TransitionForbidden,
    TransitionNotAllowed,
    not_possible_now,
)
from .notifications import (  # noqa: F401
    _enqueue_email,
    notify_customer,
)
from .numbering import (  # noqa: F401
    next_order_number,
)
from .placement import (  # noqa: F401
    Attachment,
    ContactDetails,
    DeliveryDetails,
    LineRequest,
    _lock_phone_number,
    _same_name,
    find_or_create_customer,
    place_order,
    submit_order,
)
from .replacements import place_replacement  # noqa: F401
from .review import (  # noqa: F401
    ActionChanged,
    ReviewInputInvalid,
    ReviewNotAllowed,
    add_action,
    record_meeting,
    record_process_changes,
    update_action,
)
from .shipping import (  # noqa: F401
    record_shipped_quantities,
)
from .sweep import (  # noqa: F401
    _open_follow_up,
    escalate_overdue_follow_ups,
    mark_overdue_steps,
)
from .transitions import (  # noqa: F401
    ACTIONS,
    DEFAULT_SHORTAGE_FOLLOW_UP,
    _require_reviewed,
    _require_verified,
    _sales_recipients,
    _transition,
    agree_partial_delivery,
    alert_sales_of_shortage,
    await_rest,
    backorder_order,
    cancel_order,
    close_order,
    confirm_order,
    deliver_order,
    mark_reviewed,
    perform_action,
    pick_order,
    record_new_delivery_date,
    release_backorder,
    repick_order,
    ship_order,
)
from .verification import (  # noqa: F401
    confirm_by_customer,
    keep_order_separate,
    link_order_to_customer,
    proposed_delivery_date,
    request_callback,
    verify_order,
)
