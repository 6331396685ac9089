from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("rooms", views.RoomListView.as_view(), name="rooms"),
    path("rooms/<id:room_id>", views.RoomDetailView.as_view(), name="room"),
    path("rooms/<id:room_id>/members", views.RoomMembersView.as_view(), name="room-members"),
    path(
        "rooms/<id:room_id>/members/<id:user_id>",
        views.RoomMemberView.as_view(),
        name="room-member",
    ),
    path("rooms/<id:room_id>/teams/<id:team_id>", views.RoomTeamView.as_view(), name="room-team"),
    path("rooms/<id:room_id>/messages", views.RoomMessagesView.as_view(), name="room-messages"),
    path("rooms/<id:room_id>/read", views.RoomReadView.as_view(), name="room-read"),
    path("messages/<id:message_id>", views.MessageView.as_view(), name="message"),
    path("messages/<id:message_id>/edits", views.MessageEditsView.as_view(), name="message-edits"),
    path("events", views.EventsView.as_view(), name="events"),
]
