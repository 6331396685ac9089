from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("rooms", views.RoomListView.as_view(), name="rooms"),
    path("rooms/<int:room_id>", views.RoomDetailView.as_view(), name="room"),
    path("rooms/<int:room_id>/members", views.RoomMembersView.as_view(), name="room-members"),
    path(
        "rooms/<int:room_id>/members/<int:user_id>",
        views.RoomMemberView.as_view(),
        name="room-member",
    ),
    path("rooms/<int:room_id>/teams/<int:team_id>", views.RoomTeamView.as_view(), name="room-team"),
    path("rooms/<int:room_id>/messages", views.RoomMessagesView.as_view(), name="room-messages"),
    path("rooms/<int:room_id>/read", views.RoomReadView.as_view(), name="room-read"),
    path("messages/<int:message_id>", views.MessageView.as_view(), name="message"),
    path("messages/<int:message_id>/edits", views.MessageEditsView.as_view(), name="message-edits"),
    path("events", views.EventsView.as_view(), name="events"),
]
