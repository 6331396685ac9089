"""Shared fixtures: the personas, API clients, and the real services.

Personas (one organisation each unless said):
- ``physician``, ``nurse``, ``coordinator``, ``researcher``, ``administrator``: Saint-Luc hospital
- ``community_nurse``: Riverside community practice, a partner of the hospital
- ``outsider``: a physician of another hospital, with no partnership
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from coordination.accounts.actions import add_team_member
from coordination.accounts.models import Organisation, Partnership, Role, Team, User

PASSWORD = "correct horse battery staple"
SERVICES_REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_configure(config: pytest.Config) -> None:
    if SERVICES_REQUIRED and not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        raise pytest.UsageError(
            "REQUIRE_SERVICES=1 but DATABASE_URL or REDIS_URL is not set: the integration "
            "tests must run against real PostgreSQL and Redis."
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``services`` need PostgreSQL and Redis: skipped without them, unless CI
    requires them (then they fail, loudly)."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL"):
        return
    skip = pytest.mark.skip(reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    for item in items:
        if "services" in item.keywords and not SERVICES_REQUIRED:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _empty_cache(settings: Any) -> None:
    # Each test starts with an empty cache of its own (login and link rate limits live there).
    # A process-local cache: clearing a shared Redis would disturb servers other runs started.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{os.getpid()}",
        }
    }
    cache.clear()


@pytest.fixture(autouse=True)
def _tasks_inline(settings: Any) -> None:
    # Tasks scheduled with coordination.taskqueue.enqueue run at once after commit, in the
    # test's thread, their errors raised (a test that wants them runs its on_commit callbacks).
    settings.TASKS_MODE = "inline"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Test users are created by the hundred; the production hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- personas ---------------------------------------------------------------------------------
@pytest.fixture
def hospital(db: None) -> Organisation:
    return Organisation.objects.create(
        slug="saint-luc", name="Saint-Luc Hospital", kind=Organisation.Kind.HOSPITAL
    )


@pytest.fixture
def community(db: None, hospital: Organisation) -> Organisation:
    org = Organisation.objects.create(
        slug="riverside", name="Riverside Nursing", kind=Organisation.Kind.COMMUNITY_PRACTICE
    )
    Partnership.objects.create(organisation=hospital, partner=org)
    return org


@pytest.fixture
def other_hospital(db: None) -> Organisation:
    return Organisation.objects.create(
        slug="elsewhere", name="Elsewhere General", kind=Organisation.Kind.HOSPITAL
    )


@pytest.fixture
def vascular(hospital: Organisation) -> Team:
    return Team.objects.create(organisation=hospital, slug="vascular", name="Vascular surgery")


@pytest.fixture
def wound_care(hospital: Organisation) -> Team:
    return Team.objects.create(organisation=hospital, slug="wound-care", name="Wound care")


@pytest.fixture
def home_visits(community: Organisation) -> Team:
    return Team.objects.create(organisation=community, slug="home-visits", name="Home visits")


MakeUser = Callable[..., User]


@pytest.fixture
def make_user(db: None) -> MakeUser:
    def make(handle: str, team: Team | None = None, role: Role | None = None, **extra: Any) -> User:
        user = User.objects.create_user(
            f"{handle}@example.org",
            PASSWORD,
            full_name=handle.replace(".", " ").title(),
            handle=handle,
            **extra,
        )
        if team is not None and role is not None:
            add_team_member(None, team.pk, user, role)
        return user

    return make


@pytest.fixture
def physician(make_user: MakeUser, vascular: Team) -> User:
    return make_user("phil.physician", vascular, Role.PHYSICIAN)


@pytest.fixture
def nurse(make_user: MakeUser, wound_care: Team) -> User:
    return make_user("nina.nurse", wound_care, Role.NURSE)


@pytest.fixture
def coordinator(make_user: MakeUser, hospital: Organisation) -> User:
    team = Team.objects.create(organisation=hospital, slug="coordination", name="Coordination")
    return make_user("cora.coordinator", team, Role.COORDINATOR)


@pytest.fixture
def researcher(make_user: MakeUser, hospital: Organisation) -> User:
    team = Team.objects.create(organisation=hospital, slug="research", name="Research")
    return make_user("remy.researcher", team, Role.RESEARCHER)


@pytest.fixture
def administrator(make_user: MakeUser, hospital: Organisation) -> User:
    team = Team.objects.create(organisation=hospital, slug="it", name="IT")
    return make_user("ada.admin", team, Role.ADMINISTRATOR)


@pytest.fixture
def community_nurse(make_user: MakeUser, home_visits: Team) -> User:
    return make_user("cole.community", home_visits, Role.COMMUNITY_NURSE)


@pytest.fixture
def outsider(make_user: MakeUser, other_hospital: Organisation) -> User:
    team = Team.objects.create(organisation=other_hospital, slug="surgery", name="Surgery")
    return make_user("otto.outsider", team, Role.PHYSICIAN)


# --- clients ----------------------------------------------------------------------------------
@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    """An API client authenticated as a user (or anonymous)."""

    def client_for(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


def new_uuid() -> str:
    return str(uuid.uuid4())
