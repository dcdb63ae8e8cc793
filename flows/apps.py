from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = _("Flux")

    def ready(self) -> None:
        # Local: these modules import the models, loaded only once the app
        # registry is ready. Importing checks registers the system check.
        from flows import access  # noqa: PLC0415 - needs the app registry
        from flows.engine import checks  # noqa: F401, PLC0415 - needs the app registry

        # post_migrate also runs after the flush of transactional tests, so
        # the role groups always exist (TECH-NOTES §7).
        post_migrate.connect(
            access.ensure_roles_after_migrate, dispatch_uid="pilote-roles"
        )
