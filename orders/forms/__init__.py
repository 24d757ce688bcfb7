"""The orders forms

A package of modules by concern; the names are re-exported here."""

from .entry import (  # noqa: F401
    BaseLineFormSet,
    DeliveryForm,
    LineForm,
    LineFormSet,
    PricedSelect,
    StaffOrderForm,
    _country_choices,
    _country_choices_in,
)
from .public import (  # noqa: F401
    DeliveryChangeForm,
    LookupForm,
    OnlineOrderForm,
    OnlineOrderTokenForm,
)
from .staff import (  # noqa: F401
    TOKEN_ERRORS,
    ChangeDecisionForm,
    CommentForm,
    CustomerLookupForm,
    NewDateForm,
    OrderFilterForm,
    PartialDeliveryForm,
    SearchField,
    TransitionForm,
    VerifyForm,
)
