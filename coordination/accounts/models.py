"""Users, organisations, teams and the roles a user holds in them."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    class Kind(models.TextChoices):
        HOSPITAL = "hospital", _("Hospital")
        CLINIC = "clinic", _("Clinic")
        COMMUNITY_PRACTICE = "community_practice", _("Community practice")
        HOSPITAL_AT_HOME = "hospital_at_home", _("Hospital at home")

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)
    # Used in mentions: "@vascular-surgery".
    slug = models.SlugField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="team_slug_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation.name})"


class Role(models.TextChoices):
    PHYSICIAN = "physician", _("Physician")
    NURSE = "nurse", _("Nurse")
    COMMUNITY_NURSE = "community_nurse", _("Community nurse")
    COORDINATOR = "coordinator", _("Coordinator")
    RESEARCHER = "researcher", _("Researcher")
    ADMINISTRATOR = "administrator", _("Administrator")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("users need an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address. Patients are not users."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200)
    # Used in mentions: "@a.martin". Unique, lower case.
    handle = models.SlugField(max_length=60, unique=True)
    language = models.CharField(
        max_length=8,
        choices=[("en", "English"), ("fr", "Français"), ("es", "Español")],
        default="en",
    )
    is_active = models.BooleanField(default=True)
    # Django's admin site only; clinical access never follows from it.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name", "handle"]

    class Meta:
        constraints = [models.UniqueConstraint(Lower("handle"), name="user_handle_ci_unique")]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class TeamMembership(models.Model):
    """A user's place in a team, with the role it gives them in the team's organisation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="team_memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="team_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} as {self.role}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for API clients and scripts. Only its hash is stored."""

    PREFIX = "cct_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters, shown so that people can tell their tokens apart.
    key_start = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.key_start}…)"

    @staticmethod
    def generate() -> str:
        return ApiToken.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Partnership(models.Model):
    """Two organisations that work together: their clinicians see each other in the directory.

    A hospital and the community practices that follow its patients at home, say.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="partnerships"
    )
    partner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "partner"], name="partnership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organisation} and {self.partner}"
