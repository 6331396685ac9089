from __future__ import annotations

from typing import Any

from rest_framework import serializers

from coordination.api import id_field

from .models import ApiToken, Role, Team, User


class TeamRoleSerializer(serializers.Serializer[Any]):
    team = serializers.IntegerField()
    team_name = serializers.CharField()
    organisation = serializers.IntegerField()
    organisation_name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)


class UserSerializer(serializers.Serializer[User]):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    handle = serializers.CharField()
    email = serializers.EmailField()
    teams = TeamRoleSerializer(many=True)


def user_payload(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "full_name": user.full_name,
        "handle": user.handle,
        "email": user.email,
        "teams": [
            {
                "team": m.team_id,
                "team_name": m.team.name,
                "organisation": m.team.organisation_id,
                "organisation_name": m.team.organisation.name,
                "role": m.role,
            }
            for m in user.team_memberships.all()
        ],
    }


USER_PREFETCH = ("team_memberships__team__organisation",)


class MeSerializer(UserSerializer):
    language = serializers.CharField()
    permissions = serializers.ListField(child=serializers.CharField())


class TeamSerializer(serializers.Serializer[Team]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    organisation = serializers.IntegerField()
    organisation_name = serializers.CharField()
    organisation_kind = serializers.CharField()
    member_count = serializers.IntegerField()


def team_payload(team: Team) -> dict[str, Any]:
    return {
        "id": team.pk,
        "name": team.name,
        "slug": team.slug,
        "organisation": team.organisation_id,
        "organisation_name": team.organisation.name,
        "organisation_kind": team.organisation.kind,
        "member_count": len(team.memberships.all()),
    }


class LoginSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, max_length=1024)


class TokenLoginSerializer(LoginSerializer):
    name = serializers.CharField(
        max_length=100, required=False, default="API client", help_text="To tell tokens apart."
    )


class UpdateMeSerializer(serializers.Serializer[Any]):
    language = serializers.ChoiceField(
        choices=[("en", "English"), ("fr", "Français"), ("es", "Español")],
        help_text="The language of messages, notifications and the web client, on every device.",
    )


class CreateTokenSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class TokenSerializer(serializers.Serializer[ApiToken]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    key_start = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


def token_payload(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.pk,
        "name": token.name,
        "key_start": token.key_start,
        "created_at": token.created_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
    }


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(help_text="Shown once: store it now.")


class TeamMemberSerializer(serializers.Serializer[Any]):
    user = id_field()
    role = serializers.ChoiceField(choices=Role.choices)
