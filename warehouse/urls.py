from django.urls import path

from . import views

app_name = "warehouse"
urlpatterns = [
    path("", views.WarehouseDashboard.as_view(), name="dashboard"),
]
