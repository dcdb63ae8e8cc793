import pytest
from django.contrib.auth.models import Group

from flows import access

pytestmark = pytest.mark.django_db


def test_roles_exist_after_migrate():

    assert set(Group.objects.values_list("name", flat=True)) >= set(access.ROLES)


def test_ensure_roles_is_idempotent():
    first = access.ensure_roles()
    second = access.ensure_roles()
    assert {g.pk for g in first.values()} == {g.pk for g in second.values()}


def test_role_hierarchy(member, manager, admin_user):
    assert access.is_member(member) and not access.is_manager(member)
    assert access.is_manager(manager) and not access.is_admin(manager)
    assert access.is_admin(admin_user) and access.is_manager(admin_user)
    assert admin_user.is_staff and not manager.is_staff


def test_a_user_without_a_role_has_none(django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x")
    assert access.role_of(user) is None
    assert not access.is_member(user)


def test_set_role_replaces_the_previous_one(member):
    access.set_role(member, access.MANAGER)
    assert list(member.groups.values_list("name", flat=True)) == [access.MANAGER]
    assert access.is_manager(member)


def test_navigation_follows_the_role(client, member, manager, admin_user):
    client.force_login(member)
    html = client.get("/board/").content.decode()
    assert "Indicateurs" not in html and "Administration" not in html
    client.force_login(manager)
    html = client.get("/board/").content.decode()
    assert "Indicateurs" in html and "Administration" not in html
    client.force_login(admin_user)
    assert "Administration" in client.get("/board/").content.decode()
