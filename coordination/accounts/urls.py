from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("auth/csrf", views.CsrfView.as_view(), name="auth-csrf"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/token", views.TokenLoginView.as_view(), name="auth-token"),
    path("auth/tokens", views.TokensView.as_view(), name="auth-tokens"),
    path("auth/tokens/<id:token_id>", views.TokenView.as_view(), name="auth-token-detail"),
    path("me", views.MeView.as_view(), name="me"),
    path("users", views.UsersView.as_view(), name="users"),
    path("users/<id:user_id>", views.UserView.as_view(), name="user"),
    path("teams", views.TeamsView.as_view(), name="teams"),
    path("teams/<id:team_id>/members", views.TeamMembersView.as_view(), name="team-members"),
    path(
        "teams/<id:team_id>/members/<id:user_id>",
        views.TeamMemberView.as_view(),
        name="team-member",
    ),
]
