"""The API answers in the caller's language: the user's own choice, else Accept-Language.

Codes never change with the language; messages do. The catalogues are compiled here as
``make test`` does, so that a bare ``pytest`` checks them too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation
from rest_framework.test import APIClient

from coordination.accounts.actions import create_token
from coordination.accounts.models import Role, User
from coordination.audit.models import AuditEvent
from coordination.errors import MESSAGES
from tests.conftest import PASSWORD, MakeUser
from tests.helpers import MISSING, assert_refused, unchanged

Api = Callable[[User | None], APIClient]
LOCALE = Path(settings.BASE_DIR) / "locale"


@pytest.fixture(scope="module")
def _compiled() -> None:
    call_command("compilemessages", ignore_patterns=[".venv/*", "var/*", "frontend/*"], verbosity=0)


@pytest.fixture(autouse=True)
def catalogues(_compiled: None, settings: Any) -> Iterator[None]:
    """Fresh translation catalogues (one loaded before the compile would be stale)."""
    settings.LOCALE_PATHS = list(settings.LOCALE_PATHS)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def test_accept_language_french_gets_the_french_message_with_the_same_code(db: None) -> None:
    response = APIClient().get("/api/me", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5")
    body = assert_refused(response, "not_authenticated", 401)
    assert body["message"] == "Connectez-vous pour continuer."
    assert response["Content-Language"] == "fr"


def test_accept_language_spanish_gets_the_spanish_message(db: None) -> None:
    response = APIClient().post("/api/auth/token", {}, HTTP_ACCEPT_LANGUAGE="es")
    body = assert_refused(response, "invalid_request", 400)
    assert body["message"] == "Faltan algunos campos o no son válidos; consulte los detalles."
    # DRF's own field messages follow.
    assert body["details"]["fields"]["email"] == ["Este campo es requerido."]


def test_an_unknown_language_falls_back_to_english(db: None) -> None:
    response = APIClient().get("/api/me", HTTP_ACCEPT_LANGUAGE="de")
    assert assert_refused(response, "not_authenticated", 401)["message"] == "Sign in to continue."


def test_the_users_own_language_wins_over_accept_language(
    api: Api, make_user: MakeUser, vascular: Any
) -> None:
    user = make_user("sara.spanish", vascular, Role.PHYSICIAN, language="es")
    response = api(user).get(f"/api/rooms/{MISSING}", HTTP_ACCEPT_LANGUAGE="fr")
    body = assert_refused(response, "room_not_found", 404)
    assert body["message"] == "Esta sala no existe o usted no es miembro de ella."
    assert response["Content-Language"] == "es"


def test_an_english_speaking_user_gets_english_whatever_the_browser_says(
    api: Api, nurse: User
) -> None:
    response = api(nurse).get(f"/api/rooms/{MISSING}", HTTP_ACCEPT_LANGUAGE="fr")
    body = assert_refused(response, "room_not_found", 404)
    assert body["message"] == str(MESSAGES["room_not_found"][1])


def test_a_bearer_token_user_gets_their_language_in_field_details(nurse: User) -> None:
    User.objects.filter(pk=nurse.pk).update(language="fr")
    _, raw = create_token(nurse, "Script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get("/api/events?after=soon")
    body = assert_refused(response, "invalid_request", 400)
    assert body["message"] == "Certains champs manquent ou sont invalides ; voir le détail."
    assert body["details"] == {"fields": {"after": ["Saisissez un nombre entier."]}}


def test_a_signed_in_session_gets_its_language_on_unknown_paths_too(nurse: User) -> None:
    User.objects.filter(pk=nurse.pk).update(language="fr")
    client = APIClient()
    client.login(email=nurse.email, password=PASSWORD)
    response = client.get("/api/nowhere")
    body = assert_refused(response, "not_found", 404)
    assert body["message"] == "Il n'y a rien ici. Vérifiez l'adresse."


def test_a_csrf_refusal_is_translated(nurse: User) -> None:
    client = APIClient(enforce_csrf_checks=True)
    response = client.post(
        "/api/auth/login", {"email": nurse.email, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="es"
    )
    body = assert_refused(response, "csrf_failed", 403)
    assert body["message"].startswith("Falta el token de seguridad")


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_error_message_is_translated(language: str) -> None:
    for code, (_, message) in MESSAGES.items():
        with translation.override("en"):
            english = str(message)
        with translation.override(language):
            translated = str(message)
        assert translated != english, f"{code} has no {language} translation"


@pytest.mark.parametrize("language", ["fr", "es"])
def test_the_catalogues_are_complete_and_keep_placeholders(language: str) -> None:
    po = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = re.findall(r'\nmsgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', po)
    assert len(entries) > len(MESSAGES)
    for msgid, msgstr in entries:
        source = "".join(re.findall(r'"(.*)"', msgid))
        target = "".join(re.findall(r'"(.*)"', msgstr))
        assert target, f"{source!r} is not translated into {language}"
        assert sorted(re.findall(r"%\(\w+\)s", source)) == sorted(
            re.findall(r"%\(\w+\)s", target)
        ), source
    assert "#, fuzzy" not in po


def test_role_names_are_translated() -> None:
    with translation.override("fr"):
        assert str(Role.COMMUNITY_NURSE.label) == "Infirmier·ère libéral·e"
    with translation.override("es"):
        assert str(Role.PHYSICIAN.label) == "Médico/a"


# --- choosing one's language ------------------------------------------------------------------
def test_a_person_sets_their_language_and_the_api_answers_in_it_on_every_device(
    api: Api, nurse: User
) -> None:
    response = api(nurse).patch("/api/me", {"language": "es"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["language"] == "es"
    nurse.refresh_from_db()
    assert nurse.language == "es"
    audit = AuditEvent.objects.get(action="user.language")
    assert (audit.actor_id, audit.data) == (nurse.pk, {"from": "en", "to": "es"})
    _, raw = create_token(nurse, "Another device")
    other_device = APIClient()
    other_device.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    refused = other_device.get(f"/api/rooms/{MISSING}")
    assert assert_refused(refused, "room_not_found", 404)["message"] == (
        "Esta sala no existe o usted no es miembro de ella."
    )


def test_setting_the_same_language_again_writes_nothing(api: Api, nurse: User) -> None:
    with unchanged():
        response = api(nurse).patch("/api/me", {"language": "en"}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize("body", [{"language": "de"}, {"language": ""}, {}, {"language": 3}])
def test_an_unknown_language_is_refused_and_changes_nothing(
    api: Api, nurse: User, body: dict[str, Any]
) -> None:
    with unchanged():
        response = api(nurse).patch("/api/me", body, format="json")
    assert_refused(response, "invalid_request", 400)


def test_nobody_changes_a_language_without_signing_in(api: Api, db: None) -> None:
    with unchanged():
        response = api(None).patch("/api/me", {"language": "fr"}, format="json")
    assert_refused(response, "not_authenticated", 401)
