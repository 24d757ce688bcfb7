from django.urls import path

from . import views

app_name = "logistics"
urlpatterns = [
    path("", views.LogisticsDashboard.as_view(), name="dashboard"),
    path("webhook/<slug:carrier>/", views.webhook, name="webhook"),
    path("problems/", views.problems, name="problems"),
    path("orders/<order_number:number>/", views.order_page, name="order"),
    path("orders/<order_number:number>/ship/", views.ship, name="ship"),
    path(
        "orders/<order_number:number>/shipments/<int:pk>/events/",
        views.add_event,
        name="add_event",
    ),
    path(
        "orders/<order_number:number>/exceptions/<int:pk>/resolve/",
        views.resolve,
        name="resolve",
    ),
]
