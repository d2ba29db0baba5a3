from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ops import views as ops_views

urlpatterns = [
    # probes and metrics (docs/operations.md): no login, no HTTPS redirect
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("metrics", ops_views.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include("tickets.api.urls")),
    path("api/", include("complaints.api.urls")),
    path("api/", include("customers.api.urls")),
    path("api/", include("notifications.api")),
    path("api/", include("surveys.api.urls")),
    path("api/", include("mail.downloads")),
    path("api/", include("reports.api")),
    path("s/", include("surveys.urls")),
    # the customer pages: the web form and the request page (docs/email.md, "Customer pages")
    path("help/", include("web.help_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("web.urls")),
]
