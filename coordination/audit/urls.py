from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("audit", views.AuditView.as_view(), name="audit"),
    path("audit/verify", views.AuditVerifyView.as_view(), name="audit-verify"),
]
