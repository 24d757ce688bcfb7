from django.urls import path

from . import views

app_name = "warehouse"
urlpatterns = [
    path("", views.WarehouseDashboard.as_view(), name="dashboard"),
    path("pick-list/", views.batch_pick_list, name="batch_pick_list"),
    path("stock/", views.stock, name="stock"),
    path("stock/<int:pk>/", views.stock_change, name="stock_change"),
    path("orders/<order_number:number>/", views.order_page, name="order"),
    path("orders/<order_number:number>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("orders/<order_number:number>/reserve/", views.reserve, name="reserve"),
    path("orders/<order_number:number>/scan/", views.scan, name="scan"),
    path("orders/<order_number:number>/discrepancy/", views.discrepancy, name="discrepancy"),
    path("orders/<order_number:number>/packages/", views.package_add, name="package_add"),
    path(
        "orders/<order_number:number>/packages/<int:pk>/remove/",
        views.package_remove,
        name="package_remove",
    ),
    path("orders/<order_number:number>/packed/", views.packed, name="packed"),
    path("orders/<order_number:number>/review/", views.review, name="review"),
    path("orders/<order_number:number>/pick-list/", views.pick_list, name="pick_list"),
    path("orders/<order_number:number>/packing-slip.pdf", views.packing_slip, name="packing_slip"),
    path("orders/<order_number:number>/labels.pdf", views.labels, name="labels"),
]
