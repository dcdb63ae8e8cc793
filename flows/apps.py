from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = _("Flux")

    def ready(self) -> None:
        from flows import access

        # post_migrate also runs after the flush of transactional tests, so
        # the role groups always exist (TECH-NOTES §7).
        post_migrate.connect(
            access.ensure_roles_after_migrate, dispatch_uid="pilote-roles"
        )
