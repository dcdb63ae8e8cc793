import pytest

from flows import roles

pytestmark = pytest.mark.django_db


def test_roles_exist_after_migrate():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)


def test_ensure_roles_is_idempotent():
    first = roles.ensure_roles()
    second = roles.ensure_roles()
    assert {g.pk for g in first.values()} == {g.pk for g in second.values()}


def test_role_hierarchy(member, manager, admin_user):
    assert roles.is_member(member) and not roles.is_manager(member)
    assert roles.is_manager(manager) and not roles.is_admin(manager)
    assert roles.is_admin(admin_user) and roles.is_manager(admin_user)
    assert admin_user.is_staff and not manager.is_staff


def test_a_user_without_a_role_has_none(django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x")
    assert roles.role_of(user) is None
    assert not roles.is_member(user)


def test_set_role_replaces_the_previous_one(member):
    roles.set_role(member, roles.MANAGER)
    assert list(member.groups.values_list("name", flat=True)) == [roles.MANAGER]
    assert roles.is_manager(member)


def test_navigation_follows_the_role(client, member, manager, admin_user):
    client.force_login(member)
    html = client.get("/board/").content.decode()
    assert "Indicateurs" not in html and "Administration" not in html
    client.force_login(manager)
    html = client.get("/board/").content.decode()
    assert "Indicateurs" in html and "Administration" not in html
    client.force_login(admin_user)
    assert "Administration" in client.get("/board/").content.decode()
