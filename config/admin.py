"""People, groups and background tasks in the admin, every change audited.

Project-wide: users and their roles belong to no single app.

The user admin shows one role choice (member, manager, admin) and never
`is_superuser`, `is_staff`, `groups` or `user_permissions`: the role decides
the groups and `is_staff` (`flows.access.set_role`, audited). A crafted POST
with those fields changes nothing, since they are not form fields. Superusers
are made by `manage.py createsuperuser` only.

Who may change whom (docs/security.md):

- a superuser changes anyone; a superuser's role stays admin (their rights
  come from `is_superuser`, and taking `is_staff` away would lock them out);
- an admin changes the users below admin (members, managers, people without
  a role) and their own name and e-mail; other admins and superusers are
  read-only to them, since changing a peer's e-mail or password is taking
  over their account;
- nobody changes their own role: no raise, and no last admin demoting
  themselves by mistake.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from audit import services as audit
from audit.admin import AuditedAdminMixin
from config import tasks
from flows import access

User = get_user_model()

ROLE_CHOICES = [
    (access.MEMBER, _("Membre")),
    (access.MANAGER, _("Responsable")),
    (access.ADMIN, _("Administrateur")),
]
ROLE_HELP = _(
    "Membre : travaille ses dossiers. Responsable : tous les dossiers, les "
    "indicateurs et le journal. Administrateur : en plus, l'administration."
)

admin.site.unregister(User)
admin.site.unregister(Group)


def may_change_user(actor, target) -> bool:
    """Whether `actor` may edit `target` in the admin at all."""
    if actor.is_superuser:
        return True
    if target.is_superuser:
        return False
    return target.pk == actor.pk or not access.is_admin(target)


def may_change_role(actor, target) -> bool:
    """Whether `actor` may give `target` another role."""
    if target.pk is not None and (target.pk == actor.pk or target.is_superuser):
        return False
    return may_change_user(actor, target)


class _RoleFormMixin:
    """The role field, its initial value, and who may change it.

    `acting_user` is set on the class by `PiloteUserAdmin.get_form`.
    """

    acting_user = None

    def _setup_role(self) -> None:
        field = self.fields.get("role")
        if field is None:
            return
        if self.instance.pk is not None:
            field.initial = access.role_of(self.instance)
        if self.acting_user is not None and not may_change_role(
            self.acting_user, self.instance
        ):
            # A disabled field ignores what is posted and keeps its initial.
            field.disabled = True
            field.help_text = _(
                "Ce rôle ne se change pas ici : ni le vôtre, ni celui d'un "
                "superutilisateur."
            )


class RoleChangeForm(_RoleFormMixin, UserChangeForm):
    role = forms.ChoiceField(label=_("Rôle"), choices=ROLE_CHOICES, help_text=ROLE_HELP)

    class Meta(UserChangeForm.Meta):
        fields = ("username", "first_name", "last_name", "email", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_role()


class RoleCreationForm(_RoleFormMixin, AdminUserCreationForm):
    role = forms.ChoiceField(
        label=_("Rôle"),
        choices=ROLE_CHOICES,
        initial=access.MEMBER,
        help_text=ROLE_HELP,
    )

    class Meta(AdminUserCreationForm.Meta):
        fields = ("username", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_role()


@admin.register(User)
class PiloteUserAdmin(AuditedAdminMixin, UserAdmin):
    form = RoleChangeForm
    add_form = RoleCreationForm
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Identité"), {"fields": ("first_name", "last_name", "email")}),
        (_("Accès"), {"fields": ("is_active", "role")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = ("username", "email", "first_name", "last_name", "is_active")
    list_filter = ("is_active", "groups")
    filter_horizontal = ()

    @admin.display(description=_("Rôle"))
    def role(self, obj) -> str:
        # The read-only view (another admin, a superuser) shows the role here.
        return dict(ROLE_CHOICES).get(access.role_of(obj), "—")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"acting_user": request.user})

    def has_change_permission(self, request, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_change_user(request.user, obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_change_user(request.user, obj))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        role = form.cleaned_data.get("role")
        if role and not form.fields["role"].disabled:
            access.set_role(obj, role, by=request.user)


@admin.register(Group)
class AuditedGroupAdmin(AuditedAdminMixin, GroupAdmin):
    pass


# --- Background tasks -------------------------------------------------------------

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskAdmin(DBTaskResultAdmin):
    """django-tasks-db's read-only list, with the error and "run again"."""

    list_display = (
        "task_name",
        "status",
        "attempt",
        "enqueued_at",
        "started_at",
        "finished_at",
        "exception_class_path",
    )
    actions = ["run_again"]

    @admin.display(description=_("essai"))
    def attempt(self, obj: DBTaskResult) -> int:
        return (obj.args_kwargs.get("kwargs") or {}).get(tasks.ATTEMPT, 1)

    @admin.action(description=_("Relancer les tâches choisies"), permissions=["view"])
    def run_again(self, request, queryset):
        count = 0
        for result in queryset.filter(status="FAILED"):
            tasks.retry(result)
            audit.record(
                "task_run_again",
                user=request.user,
                data={"task": result.task_path, "id": str(result.pk)},
            )
            count += 1
        self.message_user(
            request, _("%(count)d tâche(s) relancée(s).") % {"count": count}
        )
