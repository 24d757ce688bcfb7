"""Step 6 of the process: the customer confirms receipt, reports a problem, or asks to
return or exchange goods.

A delivered order waits for the customer's answer. They confirm on the status page,
Sales records a confirmation given by phone, or, with no answer after the receipt
step's target time, receipt counts as confirmed. A problem report opens a case for
Sales with the details and photos; it does not confirm receipt. A return request
(lines, quantities, a reason within its return window) waits for Sales' decision;
approved, it becomes a return authorisation with its RMA number.

A package: receipts and problem cases (``cases``), returns (``returns``); every name is
imported here, as Django and the migrations expect.
"""

from .cases import (  # noqa: F401
    PHOTO_TYPES,
    CaseStatus,
    CustomerPhoto,
    ProblemCase,
    ProblemKind,
    ProblemPhoto,
    Receipt,
    ReceiptMethod,
    photo_path,
)
from .returns import (  # noqa: F401
    AWAITING_GOODS,
    OPEN_RETURN_STATUSES,
    PARCEL_EVENT_TYPES,
    PARCEL_PROBLEMS,
    REFUND_OUTCOMES,
    Disposition,
    RequestChannel,
    ReturnAddress,
    ReturnLine,
    ReturnOutcome,
    ReturnParcelEvent,
    ReturnPhoto,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from .surveys import (  # noqa: F401
    RECOMMEND_MAX,
    SCORE_MAX,
    AskWhen,
    QuestionKind,
    QuestionSet,
    Survey,
    SurveyAnswer,
    SurveyFollowUp,
    SurveyOptOut,
    SurveyQuestion,
    SurveySettings,
)
