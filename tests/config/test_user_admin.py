"""The user admin: one role choice, no superuser or raw permissions, ever."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.models import AuditEvent
from flows import access

pytestmark = pytest.mark.django_db


def _change_url(user) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def _post(user, **extra) -> dict:
    """A complete change form for `user`, plus whatever `extra` crafts."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "role": access.role_of(user),
    }
    data.update(extra)
    return data


def _role(user) -> str | None:
    """The role as stored now (role_of caches it on the object)."""
    return access.role_of(type(user).objects.get(pk=user.pk))


def _crafted() -> dict:
    permission = Permission.objects.get(codename="delete_user")
    groups = access.ensure_roles()
    return {
        "is_superuser": "on",
        "is_staff": "on",
        "groups": [str(groups[access.ADMIN].pk)],
        "user_permissions": [str(permission.pk)],
    }


def test_the_change_form_shows_a_role_and_no_raw_rights(client, admin_user, member):
    client.force_login(admin_user)
    html = client.get(_change_url(member)).content.decode()
    assert 'name="role"' in html
    for name in ("is_superuser", "is_staff", "groups", "user_permissions"):
        assert f'name="{name}"' not in html


def test_an_admin_cannot_make_themselves_superuser(client, admin_user):
    client.force_login(admin_user)
    response = client.post(_change_url(admin_user), _post(admin_user, **_crafted()))
    assert response.status_code == 302
    admin_user.refresh_from_db()
    assert not admin_user.is_superuser
    assert list(admin_user.groups.values_list("name", flat=True)) == [access.ADMIN]
    assert not admin_user.user_permissions.exists()


def test_a_crafted_post_on_a_member_changes_only_the_role(client, admin_user, member):
    client.force_login(admin_user)
    data = _post(member, role=access.MANAGER, **_crafted())
    assert client.post(_change_url(member), data).status_code == 302
    member.refresh_from_db()
    assert not member.is_superuser and not member.is_staff
    assert list(member.groups.values_list("name", flat=True)) == [access.MANAGER]
    assert not member.user_permissions.exists()
    events = AuditEvent.objects.filter(action="role_changed", object_id=str(member.pk))
    # The fixture gave the member role; the admin gave the manager role.
    assert [(e.actor, e.data["to"]) for e in events.order_by("pk")] == [
        (None, access.MEMBER),
        (admin_user, access.MANAGER),
    ]


def test_an_admin_cannot_change_their_own_role(client, admin_user):
    client.force_login(admin_user)
    html = client.get(_change_url(admin_user)).content.decode()
    assert '<select name="role" disabled' in html
    before = AuditEvent.objects.filter(action="role_changed").count()
    data = _post(admin_user, role=access.MEMBER, first_name="Alicia")
    assert client.post(_change_url(admin_user), data).status_code == 302
    admin_user.refresh_from_db()
    # Their own name changes; their role does not.
    assert admin_user.first_name == "Alicia"
    assert _role(admin_user) == access.ADMIN and admin_user.is_staff
    assert AuditEvent.objects.filter(action="role_changed").count() == before


def test_a_manager_cannot_raise_their_own_role(client, manager):
    """Not staff: the admin site sends them to its login page."""
    client.force_login(manager)
    data = _post(manager, role=access.ADMIN, **_crafted())
    response = client.post(_change_url(manager), data)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    manager.refresh_from_db()
    assert _role(manager) == access.MANAGER
    assert not manager.is_staff and not manager.is_superuser


def test_another_admin_is_read_only_to_an_admin(client, admin_user, django_user_model):
    peer = django_user_model.objects.create_user("bruno", email="b@example.test")
    access.set_role(peer, access.ADMIN)
    client.force_login(admin_user)
    page = client.get(_change_url(peer))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="email"' not in html
    assert '<div class="readonly">Administrateur</div>' in html
    data = _post(peer, role=access.MEMBER, email="mine@example.test")
    assert client.post(_change_url(peer), data).status_code == 403
    password_url = reverse("admin:auth_user_password_change", args=[peer.pk])
    assert client.get(password_url).status_code == 403
    peer.refresh_from_db()
    assert peer.email == "b@example.test" and _role(peer) == access.ADMIN


def test_a_superuser_is_read_only_to_an_admin(client, admin_user, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.test")
    client.force_login(admin_user)
    data = _post(root, email="mine@example.test", is_active="")
    assert client.post(_change_url(root), data).status_code == 403
    root.refresh_from_db()
    assert root.email == "root@example.test" and root.is_active


def test_an_admin_may_promote_a_member_to_admin(client, admin_user, member):
    client.force_login(admin_user)
    response = client.post(_change_url(member), _post(member, role=access.ADMIN))
    assert response.status_code == 302
    member.refresh_from_db()
    assert _role(member) == access.ADMIN and member.is_staff
    assert not member.is_superuser


def test_a_superuser_sets_roles_but_not_superusers(client, django_user_model, member):
    root = django_user_model.objects.create_superuser("root", "root@example.test")
    client.force_login(root)
    data = _post(member, role=access.MANAGER, **_crafted())
    assert client.post(_change_url(member), data).status_code == 302
    member.refresh_from_db()
    assert _role(member) == access.MANAGER and not member.is_superuser


def test_adding_a_user_gives_the_chosen_role(client, admin_user, django_user_model):
    client.force_login(admin_user)
    data = {
        "username": "nina",
        "email": "nina@example.test",
        "role": access.MANAGER,
        "usable_password": "true",
        "password1": "a-long-enough-passphrase-42",
        "password2": "a-long-enough-passphrase-42",
        **_crafted(),
    }
    response = client.post(reverse("admin:auth_user_add"), data)
    assert response.status_code == 302
    nina = django_user_model.objects.get(username="nina")
    assert _role(nina) == access.MANAGER
    assert not nina.is_superuser and not nina.is_staff
    assert not nina.user_permissions.exists()
