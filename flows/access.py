"""The three roles (DESIGN §6) as Django groups, and the helpers that ask them.

member < manager < admin: each role can do what the one before it does.
"""

from functools import wraps

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy

from audit import services as audit
from flows.models import Case, Notification

MEMBER = "member"
MANAGER = "manager"
ADMIN = "admin"
ROLES = (MEMBER, MANAGER, ADMIN)
_RANK = {MEMBER: 1, MANAGER: 2, ADMIN: 3}

# Model permissions per role, as "app_label.action_model"; each role also gets
# those of the roles below it. Entries whose model does not exist yet are
# skipped, so later issues extend the lists without a migration.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    MEMBER: [
        "flows.view_case",
        "flows.add_case",
        "flows.change_case",
        "flows.add_comment",
        "flows.view_comment",
        "flows.view_flow",
        "flows.view_status",
        "flows.view_transition",
        "flows.view_checklistitem",
        "flows.view_statuschange",
    ],
    MANAGER: [
        "audit.view_auditevent",
    ],
    ADMIN: [
        "flows.add_flow",
        "flows.change_flow",
        "flows.delete_flow",
        "flows.add_status",
        "flows.change_status",
        "flows.delete_status",
        "flows.add_transition",
        "flows.change_transition",
        "flows.delete_transition",
        "flows.add_checklistitem",
        "flows.change_checklistitem",
        "flows.delete_checklistitem",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        # Data in and out (issue 8): the lead form settings and webhooks.
        "flows.view_leadformsettings",
        "flows.change_leadformsettings",
        "flows.view_webhook",
        "flows.add_webhook",
        "flows.change_webhook",
        "flows.delete_webhook",
        "flows.view_webhookdelivery",
        # Background tasks (config/tasks.py): failures, and running one again.
        "django_tasks_database.view_dbtaskresult",
    ],
}


def permissions_for(role: str) -> list[str]:
    return [
        perm
        for other, perms in ROLE_PERMISSIONS.items()
        if _RANK[other] <= _RANK[role]
        for perm in perms
    ]


@transaction.atomic
def ensure_roles() -> dict[str, Group]:
    """Create the role groups with their permissions; safe to run again."""
    groups = {}
    for role in ROLES:
        group, _created = Group.objects.get_or_create(name=role)
        wanted = set(permissions_for(role))
        perms = [
            perm
            for perm in Permission.objects.select_related("content_type")
            if f"{perm.content_type.app_label}.{perm.codename}" in wanted
        ]
        group.permissions.set(perms)
        groups[role] = group
    return groups


def ensure_roles_after_migrate(sender, **kwargs) -> None:
    # post_migrate fires once per app, and each app's permissions are created
    # by its own signal: wait for the last app so every permission exists.
    if sender.name == list(apps.get_app_configs())[-1].name:
        ensure_roles()


def set_role(user, role: str, *, by=None) -> None:
    """Give `user` exactly one role; admins get the admin site.

    `by` is who decided it (an admin in the admin site), for the audit trail.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    groups = ensure_roles()
    previous = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    user.groups.remove(*[groups[other] for other in ROLES if other != role])
    user.groups.add(groups[role])
    user.is_staff = role == ADMIN
    user.save(update_fields=["is_staff"])
    _forget(user)
    if previous != {role}:
        audit.record(
            "role_changed",
            user=by,
            obj=user,
            data={"user": user.get_username(), "from": sorted(previous), "to": role},
        )


def _forget(user) -> None:
    user.__dict__.pop("_pilote_role", None)
    user.__dict__.pop("_pilote_unread", None)


def role_of(user) -> str | None:
    """The user's highest role (cached on the user object for the request)."""
    if user is None or not user.is_authenticated:
        return None
    if "_pilote_role" not in user.__dict__:
        _load_identity(user)
    return user.__dict__["_pilote_role"]


def unread_notifications(user) -> int:
    """The bell's count, read with the role (cached for the request)."""
    if "_pilote_unread" not in user.__dict__:
        _load_identity(user)
    return user.__dict__["_pilote_unread"]


def _load_identity(user) -> None:
    """Who the user is for this request, in ONE query: role and unread count.

    Every page needs both (navigation, bell); asking once keeps the board
    within its query budget.
    """
    memberships = Group.objects.filter(user=OuterRef("pk"))
    unread = (
        Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
        .order_by()
        .values("recipient")
        .annotate(n=Count("pk"))
        .values("n")
    )
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            **{f"in_{role}": Exists(memberships.filter(name=role)) for role in ROLES},
            unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
        )
        .values(*(f"in_{role}" for role in ROLES), "unread")
        .first()
    ) or {}
    names = {role for role in ROLES if row.get(f"in_{role}")}
    if user.is_superuser:
        names.add(ADMIN)
    user.__dict__["_pilote_role"] = max(names, key=_RANK.__getitem__) if names else None
    user.__dict__["_pilote_unread"] = row.get("unread", 0)


def has_role(user, role: str) -> bool:
    current = role_of(user)
    return current is not None and _RANK[current] >= _RANK[role]


def is_member(user) -> bool:
    return has_role(user, MEMBER)


def is_manager(user) -> bool:
    return has_role(user, MANAGER)


def is_admin(user) -> bool:
    return has_role(user, ADMIN)


# --- How a person is named -------------------------------------------------------


def display_name(user, fallback: str = "") -> str:
    """A person as every page, e-mail and export names them.

    Their full name, else their username; `fallback` when there is no user
    (the client on the public quote page, the system).
    """
    if user is None:
        return fallback
    return user.get_full_name() or user.get_username()


def actor_name(user, actor_label: str = "") -> str:
    """Who acted, as audit events and webhooks record it: a username, the
    label of a non-user actor ("client"), or the system."""
    if user is not None:
        return user.get_username()
    return actor_label or audit.SYSTEM


# --- Who may see and act on cases ---------------------------------------------


def cases_visible_to(*, user) -> QuerySet[Case]:
    """Every case of the team for its members (one source of truth)."""
    if user is None or not user.is_authenticated or not is_member(user):
        return Case.objects.none()
    return Case.objects.all()


def team_members() -> QuerySet:
    """Users who hold a role, i.e. who may own cases."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=ROLES)
        .distinct()
        .order_by("first_name", "username")
    )


def visible_case_or_404(user, reference: str) -> Case:
    """The case a page is about: 403 for a user without a role, else 404."""
    if not is_member(user):
        raise PermissionDenied
    return get_object_or_404(
        cases_visible_to(user=user).select_related("flow", "owner"),
        reference=reference,
    )


NOT_YOURS = gettext_lazy(
    "Vous ne pouvez agir que sur vos dossiers et les dossiers non attribués."
)


def can_act_on(user, case: Case) -> bool:
    """Members act on their cases and unassigned ones; managers on all."""
    if user is None or not user.is_authenticated or not is_member(user):
        return False
    if is_manager(user):
        return True
    return case.owner_id is None or case.owner_id == user.pk


def _role_required(role: str, message):
    """A view decorator: 403 below `role` (audit.refusals records it)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, role):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


member_required = _role_required(
    MEMBER, gettext_lazy("Page réservée aux membres de l'équipe.")
)
manager_required = _role_required(
    MANAGER, gettext_lazy("Page réservée aux responsables.")
)
