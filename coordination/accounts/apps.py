from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "coordination.accounts"
    label = "accounts"
    verbose_name = "Accounts and access"
