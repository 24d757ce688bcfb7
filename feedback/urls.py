from django.urls import path

import orders.urls  # noqa: F401 - registers the order_number and token converters

from . import analysis_views, return_goods_views, return_views, survey_views, views

app_name = "feedback"
urlpatterns = [
    path("", views.cases, name="cases"),
    path(
        "status/<order_number:number>/<token:token>/received/",
        views.confirm_receipt,
        name="confirm_receipt",
    ),
    path(
        "status/<order_number:number>/<token:token>/problem/",
        views.report_problem,
        name="report_problem",
    ),
    path("orders/<order_number:number>/receipt/", views.phone_receipt, name="phone_receipt"),
    path("cases/<int:pk>/resolve/", views.resolve_case, name="resolve_case"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path(
        "status/<order_number:number>/<token:token>/return/",
        return_views.request_return,
        name="request_return",
    ),
    path("orders/<order_number:number>/returns/", return_views.record_return, name="record_return"),
    path("returns/<int:pk>/approve/", return_views.approve_return, name="approve_return"),
    path("returns/<int:pk>/refuse/", return_views.refuse_return, name="refuse_return"),
    path("return-photos/<int:pk>/", return_views.return_photo, name="return_photo"),
    path("returns/<int:pk>/label.pdf", return_views.staff_label, name="return_label"),
    path(
        "status/<order_number:number>/<token:token>/returns/<int:pk>/label.pdf",
        return_views.public_label,
        name="public_return_label",
    ),
    path(
        "status/<order_number:number>/<token:token>/returns/<int:pk>/sent/",
        return_goods_views.send_back,
        name="send_back",
    ),
    path("returns/receive/", return_goods_views.receive_scan, name="receive_scan"),
    path("returns/<int:pk>/receive/", return_goods_views.receive_return, name="receive_return"),
    path("returns/<int:pk>/inspect/", return_goods_views.inspect_return, name="inspect_return"),
    path("returns/<int:pk>/complete/", return_goods_views.settle_return, name="settle_return"),
    path("returns/<int:pk>/pickup/", return_goods_views.book_pickup, name="book_pickup"),
    # Step 8: the customer's survey (signed link), its follow-ups, and the analysis.
    path("survey/<str:token>/", survey_views.survey, name="survey"),
    path("survey/<str:token>/no-more/", survey_views.opt_out, name="survey_opt_out"),
    path(
        "survey-follow-ups/<int:pk>/resolve/",
        survey_views.resolve_follow_up,
        name="resolve_survey_follow_up",
    ),
    path("surveys/", analysis_views.analysis, name="survey_analysis"),
]
