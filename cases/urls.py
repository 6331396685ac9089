from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("cases.views.cases")),
    path("", include("cases.views.photos")),
    path("", include("cases.views.alerts")),
]
