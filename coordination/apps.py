from __future__ import annotations

from django.apps import AppConfig


class CoordinationConfig(AppConfig):
    name = "coordination"
    verbose_name = "Coordination core"

    def ready(self) -> None:
        from django.urls import register_converter

        from . import schema  # noqa: F401 - registers the OpenAPI extensions
        from .api import IdConverter

        # Before any URLconf is loaded: the apps' paths use <id:...>.
        register_converter(IdConverter, "id")
