"""What every HTTP API view shares: the base view, bounded ids, JSON error pages.

Views subclass :class:`APIView` (not DRF's) so that, once the caller is authenticated, the
answer is in their language. Ids in paths and bodies are bounded to what the database stores:
an id no row can have is "not found" or "invalid", never a database error.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers, views
from rest_framework.request import Request

from .accounts.models import User
from .errors import CoordinationError, invalid_field

# The largest value of a BigAutoField / BigIntegerField (PostgreSQL bigint, SQLite INTEGER).
MAX_ID = 2**63 - 1


def user_language(user: Any) -> str | None:
    """The language an authenticated user chose, if the server speaks it."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    language = getattr(user, "language", "")
    return language if language in dict(settings.LANGUAGES) else None


# DRF's view, answering in the authenticated user's language. LocaleMiddleware has already
# picked one from Accept-Language; an authenticated user's own choice wins over it. Callers
# refused before authentication (anonymous, bad token) get the Accept-Language one.
# (A comment, not a docstring: drf-spectacular would show it on every operation.)
class APIView(views.APIView):
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if language := user_language(request.user):
            translation.activate(language)
            request._request.LANGUAGE_CODE = language


def id_field(**kwargs: Any) -> serializers.IntegerField:
    """An integer field for a row id: 1 to :data:`MAX_ID`."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class IdConverter:
    """The ``<id:...>`` path converter: a row id, or no match (so the path is "not found")."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(value)
        return number

    def to_url(self, value: int) -> str:
        return str(value)


# --- the JSON answers of the API's edges outside DRF's views ---------------------------------
def request_user(request: Request) -> User:
    """The signed-in caller of a view that requires authentication."""
    user = request.user
    assert isinstance(user, User)
    return user


def validated(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    """The serializer's validated data, or DRF's ValidationError (``invalid_request``)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def is_api_path(request: HttpRequest) -> bool:
    return request.path_info == "/api" or request.path_info.startswith("/api/")


def _request_language(request: HttpRequest) -> str | None:
    try:
        return user_language(getattr(request, "user", None))
    except Exception:  # the session or the database may be what failed
        return None


def error_response(request: HttpRequest, code: str) -> JsonResponse:
    """``{"code", "message"}`` in the caller's language, as DRF's exception handler answers."""
    with translation.override(_request_language(request) or translation.get_language()):
        error = CoordinationError(code)
        return JsonResponse(
            error.as_dict(), status=error.status, json_dumps_params={"separators": (",", ":")}
        )


@csrf_exempt
def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """Any path under ``/api/`` that names nothing, whatever the method."""
    return error_response(request, "not_found")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: JSON ``csrf_failed`` for the API, Django's page elsewhere."""
    if is_api_path(request):
        return error_response(request, "csrf_failed")
    return csrf.csrf_failure(request, reason)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: JSON ``not_found`` for the API (``/api``, ``/api/``), Django's page
    elsewhere. Other unknown API paths already reach :func:`api_not_found`."""
    if is_api_path(request):
        return error_response(request, "not_found")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: JSON ``internal_error`` for the API, Django's page elsewhere."""
    if is_api_path(request):
        return error_response(request, "internal_error")
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400`` (a suspicious request Django refused before any view)."""
    if is_api_path(request):
        return error_response(request, "invalid_request")
    return defaults.bad_request(request, exception)


# --- query parameters --------------------------------------------------------------------------
def int_param(
    request: Request,
    name: str,
    default: int | None = None,
    *,
    low: int = 0,
    high: int = MAX_ID,
) -> int | None:
    """A whole-number query parameter between ``low`` and ``high``; absent or empty: default."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_field(name, gettext("Enter a whole number.")) from None
    if not low <= value <= high:
        raise invalid_field(
            name,
            gettext("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high},
        )
    return value
