from django.urls import path

from apps.accounts import views

app_name = "accounts"
urlpatterns = [
    path("mfa/enrol/", views.mfa_enrol, name="mfa-enrol"),
    path("mfa/verify/", views.mfa_verify, name="mfa-verify"),
    path("console/audit/", views.audit_log, name="audit"),
]
