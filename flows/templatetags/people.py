"""`{{ user|display_name }}`: the one way templates name a person."""

from django import template

from flows import access

register = template.Library()


@register.filter
def display_name(user, fallback: str = "") -> str:
    return access.display_name(user, fallback)
