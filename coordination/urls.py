from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from coordination import webclient
from coordination.api import api_not_found


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: the database answers."""
    from coordination.models import Sequencer

    Sequencer.objects.exists()
    return JsonResponse({"status": "ok"})


api: list[URLPattern | URLResolver] = [
    path("", include("coordination.accounts.urls")),
    path("", include("coordination.audit.urls")),
    path("", include("rooms.urls")),
    path("", include("notifications.urls")),
    path("", include("cases.urls")),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("<path:rest>", api_not_found),
]

urlpatterns = [
    path("api/", include(api)),
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    # The web client (frontend/dist): its routes, hashed assets, service worker and manifest.
    *webclient.urlpatterns(),
]

# Under /api/ these answer {"code", "message"} like every other refusal; elsewhere, Django's pages.
handler400 = "coordination.api.bad_request"
handler404 = "coordination.api.page_not_found"
handler500 = "coordination.api.server_error"
