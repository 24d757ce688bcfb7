from django.urls import path, register_converter

from . import meeting_views, review_views, views
from .converters import OrderNumberConverter, SignedConverter, TokenConverter

register_converter(OrderNumberConverter, "order_number")
register_converter(TokenConverter, "token")
register_converter(SignedConverter, "signed")

urlpatterns = [
    path("sales/", views.SalesDashboard.as_view(), name="sales_dashboard"),
    path("manager/", views.ManagerDashboard.as_view(), name="manager_dashboard"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/new/", views.order_create, name="order_create"),
    path("customers/lookup/", views.customer_lookup, name="customer_lookup"),
    path("orders/<order_number:number>/", views.order_detail, name="order_detail"),
    path("orders/<order_number:number>/action/", views.order_action, name="order_action"),
    path("orders/<order_number:number>/comment/", views.order_comment, name="order_comment"),
    path("orders/<order_number:number>/verify/", views.order_verify, name="order_verify"),
    path("orders/<order_number:number>/customer/", views.order_customer, name="order_customer"),
    path("orders/<order_number:number>/new-date/", views.order_new_date, name="order_new_date"),
    path("orders/<order_number:number>/partial/", views.order_partial, name="order_partial"),
    path("orders/<order_number:number>/edit/", views.order_edit, name="order_edit"),
    path(
        "orders/<order_number:number>/documents/<int:pk>/",
        views.order_document,
        name="order_document",
    ),
    path(
        "orders/<order_number:number>/change-requests/<int:pk>/",
        views.change_request_decide,
        name="change_request_decide",
    ),
    path("process/", views.process, name="process"),
    # The process review: the pack, and the meetings with their action items.
    path("review/", review_views.pack, name="review_pack"),
    path("review/pack.pdf", review_views.pack_pdf, name="review_pack_pdf"),
    path("review/pack.csv", review_views.pack_csv, name="review_pack_csv"),
    path("review/meetings/", meeting_views.meetings, name="review_meetings"),
    path("review/meetings/new/", meeting_views.new_meeting, name="new_review_meeting"),
    path("review/meetings/<int:pk>/", meeting_views.meeting, name="review_meeting"),
    path("review/actions/<int:pk>/", meeting_views.update_action, name="update_action"),
    path("status/<order_number:number>/<token:token>/", views.public_status, name="public_status"),
    path(
        "status/<order_number:number>/<token:token>/change/",
        views.public_change_request,
        name="public_change_request",
    ),
    path("track/", views.public_lookup, name="public_lookup"),
    path("order/", views.online_order, name="online_order"),
    path("confirm/<signed:token>/", views.customer_confirm, name="customer_confirm"),
    path(
        "order/received/<order_number:number>/<token:token>/",
        views.online_order_received,
        name="online_order_received",
    ),
]
