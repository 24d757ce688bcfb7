from django.urls import path

import orders.urls  # noqa: F401 - registers the order_number and token converters

from . import views

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
]
