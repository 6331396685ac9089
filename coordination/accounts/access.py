"""Who may see whom: the user and team directory."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Partnership, Team, User
from .permissions import Perm, organisations_where


def directory_organisations(user: User) -> set[int]:
    """Organisations whose people the user may browse: theirs and their partners'."""
    own = organisations_where(user, Perm.DIRECTORY_VIEW_ORGANISATION)
    if not own:
        return set()
    partners = Partnership.objects.filter(Q(organisation_id__in=own) | Q(partner_id__in=own))
    result = set(own)
    for a, b in partners.values_list("organisation_id", "partner_id"):
        result.update((a, b))
    return result


def visible_users(user: User) -> QuerySet[User]:
    """Everyone the user may see: their organisations' directories, and people they share a
    room with (a community nurse sees only those), and themselves."""
    from rooms.models import Membership

    shared_rooms = Membership.objects.filter(user=user, left_seq__isnull=True).values("room_id")
    co_members = Membership.objects.filter(room_id__in=shared_rooms, left_seq__isnull=True).values(
        "user_id"
    )
    condition = Q(pk=user.pk) | Q(pk__in=co_members)
    orgs = directory_organisations(user)
    if orgs:
        condition |= Q(team_memberships__team__organisation_id__in=orgs)
    return User.objects.filter(condition, is_active=True).distinct()


def visible_teams(user: User) -> QuerySet[Team]:
    """Teams of the user's organisations and partners, and teams linked to the user's rooms."""
    from rooms.models import Membership, RoomTeam

    own_orgs = set(user.team_memberships.values_list("team__organisation_id", flat=True))
    orgs = own_orgs | directory_organisations(user)
    shared_rooms = Membership.objects.filter(user=user, left_seq__isnull=True).values("room_id")
    linked = RoomTeam.objects.filter(room_id__in=shared_rooms).values("team_id")
    return Team.objects.filter(Q(organisation_id__in=orgs) | Q(pk__in=linked)).distinct()


def access_user(viewer: User, user_id: int) -> User:
    """The user if the viewer may see them; else ``user_not_found`` (whether or not they exist)."""
    from coordination.errors import CoordinationError

    found = visible_users(viewer).filter(pk=user_id).first()
    if found is None:
        raise CoordinationError("user_not_found")
    return found


def access_team(viewer: User, team_id: int) -> Team:
    from coordination.errors import CoordinationError

    found = visible_teams(viewer).filter(pk=team_id).select_related("organisation").first()
    if found is None:
        raise CoordinationError("team_not_found")
    return found
