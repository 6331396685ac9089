"""The role-based permission matrix.

A permission answers "may someone with this role do this kind of thing at all". Whether they may
do it to a given room or case is the job of the ``access_*`` helpers, which also require
membership: nothing is visible by default, administrators included. ``docs/permissions.md``
shows this matrix as a table; a test keeps the two in step.
"""

from __future__ import annotations

from enum import StrEnum

from .models import Role, User


class Perm(StrEnum):
    ROOM_CREATE_GROUP = "room.create_group"
    ROOM_CREATE_DIRECT = "room.create_direct"
    ROOM_MANAGE_MEMBERS = "room.manage_members"
    MESSAGE_SEND = "message.send"
    MESSAGE_MODERATE = "message.moderate"
    DIRECTORY_VIEW_ORGANISATION = "directory.view_organisation"
    ORGANISATION_MANAGE = "organisation.manage"
    AUDIT_VIEW = "audit.view"
    PATIENT_REGISTER = "patient.register"
    CASE_OPEN = "case.open"
    CASE_MANAGE = "case.manage"
    PHOTO_UPLOAD = "photo.upload"
    MEASUREMENT_REVIEW = "measurement.review"
    ALERT_ACKNOWLEDGE = "alert.acknowledge"
    PATIENT_LINK_ISSUE = "patient_link.issue"


PERMISSION_DESCRIPTIONS: dict[Perm, str] = {
    Perm.ROOM_CREATE_GROUP: "Create a group room in their organisation",
    Perm.ROOM_CREATE_DIRECT: "Start a direct conversation with someone they can see",
    Perm.ROOM_MANAGE_MEMBERS: "Add and remove members and teams of a room they belong to",
    Perm.MESSAGE_SEND: "Post, edit and delete their own messages in a room they belong to",
    Perm.MESSAGE_MODERATE: "Delete other people's messages in a room they belong to",
    Perm.DIRECTORY_VIEW_ORGANISATION: "See everyone in their organisations' directory",
    Perm.ORGANISATION_MANAGE: "Manage the teams and memberships of their organisation",
    Perm.AUDIT_VIEW: "Read and verify the audit trail of their organisation",
    Perm.PATIENT_REGISTER: "Register a patient in their organisation",
    Perm.CASE_OPEN: "Open a case for a patient of their organisation",
    Perm.CASE_MANAGE: "Close, reopen and invite people to a case they belong to",
    Perm.PHOTO_UPLOAD: "Post wound photos to a case they belong to",
    Perm.MEASUREMENT_REVIEW: "Validate, correct or reject a measurement, or draw one by hand",
    Perm.ALERT_ACKNOWLEDGE: "Acknowledge an alert in a case they belong to",
    Perm.PATIENT_LINK_ISSUE: "Issue and revoke a patient's link to a case they belong to",
}

_CLINICAL = {
    Perm.ROOM_CREATE_GROUP,
    Perm.ROOM_CREATE_DIRECT,
    Perm.ROOM_MANAGE_MEMBERS,
    Perm.MESSAGE_SEND,
    Perm.DIRECTORY_VIEW_ORGANISATION,
    Perm.PATIENT_REGISTER,
    Perm.CASE_OPEN,
    Perm.CASE_MANAGE,
    Perm.PHOTO_UPLOAD,
    Perm.MEASUREMENT_REVIEW,
    Perm.ALERT_ACKNOWLEDGE,
    Perm.PATIENT_LINK_ISSUE,
}

MATRIX: dict[Role, frozenset[Perm]] = {
    Role.PHYSICIAN: frozenset(_CLINICAL),
    Role.NURSE: frozenset(_CLINICAL),
    # Guests: they work in the cases and rooms shared with them, and see the people there.
    # They photograph and review the wounds of the cases shared with them.
    Role.COMMUNITY_NURSE: frozenset(
        {
            Perm.ROOM_CREATE_DIRECT,
            Perm.MESSAGE_SEND,
            Perm.PHOTO_UPLOAD,
            Perm.MEASUREMENT_REVIEW,
            Perm.ALERT_ACKNOWLEDGE,
        }
    ),
    # Coordinators organise care; they do not judge wounds.
    Role.COORDINATOR: frozenset((_CLINICAL - {Perm.MEASUREMENT_REVIEW}) | {Perm.MESSAGE_MODERATE}),
    Role.RESEARCHER: frozenset({Perm.ROOM_CREATE_DIRECT, Perm.MESSAGE_SEND}),
    Role.ADMINISTRATOR: frozenset(
        {
            Perm.ROOM_CREATE_GROUP,
            Perm.ROOM_CREATE_DIRECT,
            Perm.ROOM_MANAGE_MEMBERS,
            Perm.MESSAGE_SEND,
            Perm.MESSAGE_MODERATE,
            Perm.DIRECTORY_VIEW_ORGANISATION,
            Perm.ORGANISATION_MANAGE,
            Perm.AUDIT_VIEW,
        }
    ),
}


def roles_of(user: User, organisation_id: int | None = None) -> set[Role]:
    """The roles a user holds, in one organisation or in any."""
    memberships = user.team_memberships.all()
    if organisation_id is not None:
        memberships = memberships.filter(team__organisation_id=organisation_id)
    return {Role(role) for role in memberships.values_list("role", flat=True)}


def has_perm(user: User, perm: Perm, organisation_id: int | None = None) -> bool:
    """Whether any of the user's roles (in that organisation, if given) grants ``perm``."""
    if not user.is_active:
        return False
    return any(perm in MATRIX[role] for role in roles_of(user, organisation_id))


def organisations_where(user: User, perm: Perm) -> set[int]:
    """The organisations in which the user holds a role granting ``perm``."""
    pairs = user.team_memberships.values_list("team__organisation_id", "role")
    return {org_id for org_id, role in pairs if perm in MATRIX[Role(role)]}
