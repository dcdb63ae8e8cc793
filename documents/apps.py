from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _default_categories(sender, **kwargs) -> None:
    from documents.services import ensure_default_categories

    ensure_default_categories()


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Documents et devis")

    def ready(self) -> None:
        # Not a data migration: transactional tests flush those (TECH-NOTES §7);
        # demo and test fixtures call ensure_default_categories() too.
        post_migrate.connect(
            _default_categories, sender=self, dispatch_uid="documents_categories"
        )
