from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.accounts.admin_site import restrict_admin_to_platform_admins

restrict_admin_to_platform_admins(admin.site)

urlpatterns = [
    path("", include("apps.portal.urls")),
    path("", include("apps.accounts.urls")),  # MFA pages, the console's audit log
    path("console/", include("apps.console.urls")),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("config.api")),
    path("api/agent/v1/", include("apps.fleet.api.agent.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its init script as a file: no inline script under the CSP. Only
    # Swagger UI's own small inline <style> needs an exception, on this page alone.
    path(
        "api/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
]
