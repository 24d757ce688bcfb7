"""The order spine: customers, products, orders, lines, the timeline and the process.

A package of modules by concern; the names are re-exported here."""

from .customers import (  # noqa: F401
    LANGUAGE_CHOICES,
    Address,
    Channel,
    Customer,
    DeliveryWindow,
    format_address,
)
from .events import (  # noqa: F401
    EventKind,
    ImmutableEventError,
    OrderEvent,
    OrderEventQuerySet,
)
from .notifications import (  # noqa: F401
    Notification,
    NotificationKind,
)
from .order import (  # noqa: F401
    OPEN_STATUSES,
    Order,
    OrderDeletionRefused,
    OrderLine,
    OrderQuerySet,
    OrderSequence,
    Product,
    Status,
    new_public_token,
)
from .process import (  # noqa: F401
    MAX_TARGET,
    MIN_TARGET,
    STEP_FOR_STATUS,
    ProcessStep,
    ReturnStep,
    ReturnStepCode,
    StepChannelTarget,
    StepCode,
)
from .review import (  # noqa: F401
    ActionItem,
    ActionStatus,
    PackPeriod,
    ProcessChange,
    ReviewMeeting,
    ReviewPackRun,
    StepRun,
)
from .sales import (  # noqa: F401
    CHANGE_WHAT,
    CUSTOMER_CHANGEABLE_STATUSES,
    ChangeRequestStatus,
    DeliveryChangeRequest,
    DeliveryPromise,
    FollowUp,
    FollowUpReason,
    OrderDocument,
    VerificationMethod,
    change_what,
    evidence_path,
)
