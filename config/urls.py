from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config import health, views
from flows.intake.views import lead_form

urlpatterns = [
    # Health probes for load balancers and Docker (docs/deployment.md); the
    # paths are config.http.PROBE_PATHS.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path(
        "",
        RedirectView.as_view(pattern_name="flows:board", permanent=False),
        name="home",
    ),
    # Before Django's own: the throttled login and the even password reset.
    path("accounts/login/", views.login, name="login"),
    path("accounts/password_reset/", views.password_reset, name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    # Two-factor sign-in and open sessions (docs/security.md).
    path("account/", include("config.account.urls")),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("audit/", include("audit.urls")),
    path("", include("flows.urls")),
    # Documents and quotes (issue 5), with the public quote link /q/<token>/.
    path("", include("documents.urls")),
    # Public lead form (issue 8), off until an admin enables it.
    path("lead/", lead_form.lead_form, name="lead_form"),
    path("lead/embed/", lead_form.lead_form_embed, name="lead_form_embed"),
]
