from django.urls import path

from . import views

urlpatterns = [
    path("sales/", views.SalesDashboard.as_view(), name="sales_dashboard"),
    path("manager/", views.ManagerDashboard.as_view(), name="manager_dashboard"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("orders/<str:number>/action/", views.order_action, name="order_action"),
    path("orders/<str:number>/comment/", views.order_comment, name="order_comment"),
    path("process/", views.process, name="process"),
    path("status/<str:number>/<str:token>/", views.public_status, name="public_status"),
    path("order/", views.online_order, name="online_order"),
    path(
        "order/received/<str:number>/<str:token>/",
        views.online_order_received,
        name="online_order_received",
    ),
]
