from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from flows import access


def pilote(request: HttpRequest) -> dict:
    """The current user's role, for the navigation, and the bell's count."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_role": None}
    return {
        "user_role": access.role_of(user),
        "user_is_manager": access.is_manager(user),
        "user_is_admin": access.is_admin(user),
        # Read with the role, in the same query (flows.roles._load_identity).
        "unread_notifications": SimpleLazyObject(
            lambda: access.unread_notifications(user)
        ),
    }
