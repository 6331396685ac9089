"""Signing in, API tokens, the directory and team management."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login, logout
from django.db.models import Q
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from coordination.api import APIView, request_user, validated
from coordination.errors import CoordinationError

from . import actions
from .access import access_team, access_user, visible_teams, visible_users
from .models import ApiToken, Role, User
from .permissions import MATRIX
from .serializers import (
    USER_PREFETCH,
    CreateTokenSerializer,
    LoginSerializer,
    MeSerializer,
    NewTokenSerializer,
    TeamMemberSerializer,
    TeamSerializer,
    TokenLoginSerializer,
    TokenSerializer,
    UpdateMeSerializer,
    UserSerializer,
    team_payload,
    token_payload,
    user_payload,
)


def me_payload(user: User) -> dict[str, Any]:
    user = User.objects.prefetch_related(*USER_PREFETCH).get(pk=user.pk)
    roles = {Role(m.role) for m in user.team_memberships.all()}
    permissions = sorted({str(p) for role in roles for p in MATRIX[role]})
    return {**user_payload(user), "language": user.language, "permissions": permissions}


CsrfSerializer = inline_serializer("Csrf", {"csrf_token": serializers.CharField()})


@method_decorator(ensure_csrf_cookie, name="dispatch")
class CsrfView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(summary="Set the CSRF cookie before signing in", responses=CsrfSerializer)
    def get(self, request: Request) -> Response:
        return Response({"csrf_token": get_token(request._request)})


@method_decorator(csrf_protect, name="dispatch")
class LoginView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        summary="Sign in with e-mail and password (browser session)",
        description="Send the CSRF cookie's value in `X-CSRFToken` (without it: "
        "`csrf_failed`). Failed attempts are limited per address and per client: "
        "`rate_limited` says how long to wait.",
        request=LoginSerializer,
        responses=MeSerializer,
    )
    def post(self, request: Request) -> Response:
        data = validated(LoginSerializer, request.data)
        user = actions.check_credentials(data["email"], data["password"])
        login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        return Response(me_payload(user))


class LogoutView(APIView):
    @extend_schema(summary="Sign out", request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenLoginView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        summary="Exchange e-mail and password for an API token (scripts, API clients)",
        request=TokenLoginSerializer,
        responses={201: NewTokenSerializer},
    )
    def post(self, request: Request) -> Response:
        data = validated(TokenLoginSerializer, request.data)
        user = actions.check_credentials(data["email"], data["password"])
        name = data["name"]
        token, raw = actions.create_token(user, name)
        return Response({**token_payload(token), "token": raw}, status=status.HTTP_201_CREATED)


class TokensView(APIView):
    @extend_schema(summary="My API tokens", responses=TokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        tokens = ApiToken.objects.filter(user=request_user(request), revoked_at__isnull=True)
        return Response([token_payload(t) for t in tokens.order_by("-created_at")])

    @extend_schema(
        summary="Create an API token",
        request=CreateTokenSerializer,
        responses={201: NewTokenSerializer},
    )
    def post(self, request: Request) -> Response:
        data = validated(CreateTokenSerializer, request.data)
        token, raw = actions.create_token(
            request_user(request), data["name"], expires_at=data.get("expires_at")
        )
        return Response({**token_payload(token), "token": raw}, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    @extend_schema(summary="Revoke an API token", responses={204: None})
    def delete(self, request: Request, token_id: int) -> Response:
        actions.revoke_token(request_user(request), token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(summary="Who I am, my teams and what my roles allow", responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(me_payload(request_user(request)))

    @extend_schema(
        summary="Change my language",
        request=UpdateMeSerializer,
        responses=MeSerializer,
    )
    def patch(self, request: Request) -> Response:
        data = validated(UpdateMeSerializer, request.data)
        user = actions.set_language(request_user(request), data["language"])
        return Response(me_payload(user))


class UsersView(APIView):
    @extend_schema(
        summary="The people I may see",
        description="My organisations' and their partners' directories (by role), and the "
        "people I share a room with.",
        parameters=[OpenApiParameter("search", str, description="Name, handle or e-mail")],
        responses=UserSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        users = visible_users(request_user(request))
        search = request.query_params.get("search", "").strip()
        if search:
            users = users.filter(
                Q(full_name__icontains=search)
                | Q(handle__icontains=search)
                | Q(email__iexact=search)
            )
        users = users.prefetch_related(*USER_PREFETCH).order_by("full_name")[:200]
        return Response([user_payload(u) for u in users])


class UserView(APIView):
    @extend_schema(summary="One person", responses=UserSerializer)
    def get(self, request: Request, user_id: int) -> Response:
        user = access_user(request_user(request), user_id)
        user = User.objects.prefetch_related(*USER_PREFETCH).get(pk=user.pk)
        return Response(user_payload(user))


class TeamsView(APIView):
    @extend_schema(summary="The teams I may see", responses=TeamSerializer(many=True))
    def get(self, request: Request) -> Response:
        teams = (
            visible_teams(request_user(request))
            .select_related("organisation")
            .prefetch_related("memberships")
        )
        return Response([team_payload(t) for t in teams.order_by("organisation__name", "name")])


class TeamMembersView(APIView):
    @extend_schema(summary="A team's members", responses=UserSerializer(many=True))
    def get(self, request: Request, team_id: int) -> Response:
        viewer = request_user(request)
        team = access_team(viewer, team_id)
        # Seeing a team is not seeing its people: the directory rules still apply.
        users = (
            visible_users(viewer)
            .filter(team_memberships__team=team)
            .prefetch_related(*USER_PREFETCH)
        )
        return Response([user_payload(u) for u in users.order_by("full_name")])

    @extend_schema(
        summary="Add someone to a team with a role (organisation administrators)",
        description="They join the rooms linked to the team at once.",
        request=TeamMemberSerializer,
        responses={201: UserSerializer},
    )
    def post(self, request: Request, team_id: int) -> Response:
        actor = request_user(request)
        # Refuse non-administrators before looking anyone up: the answer must not tell them
        # whether a person exists.
        actions.managed_team(actor, team_id)
        data = validated(TeamMemberSerializer, request.data)
        member = User.objects.filter(pk=data["user"], is_active=True).first()
        if member is None:
            raise CoordinationError("user_not_found")
        actions.add_team_member(actor, team_id, member, Role(data["role"]))
        member = User.objects.prefetch_related(*USER_PREFETCH).get(pk=member.pk)
        return Response(user_payload(member), status=status.HTTP_201_CREATED)


class TeamMemberView(APIView):
    @extend_schema(
        summary="Take someone out of a team (organisation administrators)", responses={204: None}
    )
    def delete(self, request: Request, team_id: int, user_id: int) -> Response:
        actions.remove_team_member(request_user(request), team_id, user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
