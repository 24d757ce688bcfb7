from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from orders import views as order_views

from .views import StaffLoginView, home

admin.site.site_header = _("O2D administration")
admin.site.site_title = _("O2D admin")
admin.site.index_title = _("Process, carriers, schedules and texts")

urlpatterns = [
    path("", home, name="home"),
    path("healthz", order_views.healthz, name="healthz"),
    path("accounts/login/", StaffLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("orders.urls")),
    path("warehouse/", include("warehouse.urls")),
    path("logistics/", include("logistics.urls")),
    path("finance/", include("finance.urls")),
    path("feedback/", include("feedback.urls")),
    path("admin/", admin.site.urls),
]

# Uploaded files (order evidence, problem photos) are never served from MEDIA_URL, not
# even in development: the order's page and the case's page serve them to staff with
# the right role (orders.views.document, feedback.views.photo).
