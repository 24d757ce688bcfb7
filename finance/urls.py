from django.urls import path

from . import views

app_name = "finance"
urlpatterns = [
    path("", views.FinanceDashboard.as_view(), name="dashboard"),
]
