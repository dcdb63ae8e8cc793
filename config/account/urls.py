from django.urls import path

from config.account import views

app_name = "account"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("security/", views.security, name="security"),
    path("security/totp/", views.totp_setup, name="totp_setup"),
    path("security/totp/start/", views.totp_start, name="totp_start"),
    path("security/disable/", views.mfa_disable, name="mfa_disable"),
    path("security/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path(
        "security/recovery-codes/new/",
        views.recovery_regenerate,
        name="recovery_regenerate",
    ),
    path("security/sessions/<int:pk>/end/", views.session_end, name="session_end"),
    path(
        "security/sessions/end-others/",
        views.sessions_end_others,
        name="sessions_end_others",
    ),
]
