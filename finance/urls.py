from django.urls import path

import orders.urls  # noqa: F401 - registers the order_number converter

from . import exports, views

app_name = "finance"
order = "orders/<order_number:number>/"
urlpatterns = [
    path("", views.FinanceDashboard.as_view(), name="dashboard"),
    path("requests/", views.closing_requests, name="closing_requests"),
    path(order, views.request_page, name="request"),
    path(order + "payment/", views.payment, name="payment"),
    path(order + "refund/", views.refund, name="refund"),
    path(order + "charge/", views.charge, name="charge"),
    path(order + "entries/<int:pk>/reverse/", views.reverse, name="reverse"),
    path(order + "invoice/", views.invoice, name="invoice"),
    path(order + "invoices/<int:pk>/void/", views.void_invoice, name="void_invoice"),
    path(order + "acknowledge/", views.acknowledge, name="acknowledge"),
    path(order + "send-back/", views.send_back, name="send_back"),
    path(order + "approve/", views.approve, name="approve"),
    path(order + "override/", views.override, name="override"),
    path(order + "submit/", views.submit, name="submit"),
    path(order + "documents/", views.add_document, name="add_document"),
    path("documents/<int:pk>/", views.document, name="document"),
    path("invoices/<int:pk>/document/", views.invoice_document, name="invoice_document"),
    path("export/ledger.csv", exports.export_ledger, name="export_ledger"),
    path("export/closed.csv", exports.export_closed, name="export_closed"),
]
