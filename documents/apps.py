from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Documents et devis")

    def ready(self) -> None:
        # Local: these modules import the models, loaded only once the app
        # registry is ready.
        from documents import conditions, panels  # noqa: PLC0415 - needs the app registry
        from documents.services import files  # noqa: PLC0415 - needs the app registry

        # The engine never imports documents: documents plugs its checklist
        # conditions and case-page panels into it.
        conditions.register()
        panels.register()
        # Not a data migration: transactional tests flush those (TECH-NOTES §7);
        # demo and test fixtures call ensure_default_categories() too.
        post_migrate.connect(
            files.ensure_categories_after_migrate,
            sender=self,
            dispatch_uid="documents_categories",
        )
