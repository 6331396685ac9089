"""What drf-spectacular needs to describe the API: its authentication and its errors."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from .errors import MESSAGES


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "coordination.accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from `POST /api/auth/token`: "
            "`Authorization: Bearer cct_...`.",
        }


class CsrfSessionScheme(SessionScheme):  # type: ignore[no-untyped-call]
    target_class = "coordination.accounts.authentication.SessionAuthentication"


def error_schema() -> dict[str, Any]:
    with translation.override("en"):
        codes = "\n".join(
            f"- `{code}` ({status}): {message}" for code, (status, message) in MESSAGES.items()
        )
    return {
        "type": "object",
        "description": "Every refusal. Switch on `code`; show `message` (in the caller's "
        "language).\n\n" + codes,
        "properties": {
            "code": {"type": "string", "enum": list(MESSAGES)},
            "message": {"type": "string"},
            "details": {
                "type": "object",
                "additionalProperties": {},
                "description": '`invalid_request`: `{"fields": {name: [message, ...]}}`; '
                '`rate_limited`: `{"retry_after_seconds": n}`.',
            },
        },
        "required": ["code", "message"],
    }


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """``POSTPROCESSING_HOOKS``: the error body, as every operation's default response."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = error_schema()
    default = {
        "description": "Refused: see `code`.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for path in result.get("paths", {}).values():
        for operation in path.values():
            operation.get("responses", {}).setdefault("default", default)
    return result
