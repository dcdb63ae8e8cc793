"""Admin: the company profile (a singleton) and the document categories.

Both are configuration for admins, audited like the flow configuration.
Documents and quotes are read-only here: they change through the services.
"""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from audit.admin import AuditedAdminMixin
from documents.models import CompanyProfile, Document, DocumentCategory, Quote
from flows import access


class AdminsOnly:
    """Company configuration belongs to the admin role (DESIGN §6)."""

    def has_module_permission(self, request):
        return access.is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return access.is_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return access.is_admin(request.user)

    def has_add_permission(self, request):
        return access.is_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return access.is_admin(request.user)


@admin.register(CompanyProfile)
class CompanyProfileAdmin(AdminsOnly, AuditedAdminMixin, SimpleHistoryAdmin):
    fieldsets = [
        (
            None,
            {"fields": ["legal_name", "legal_form", "address", "logo"]},
        ),
        (
            _("Identifiants"),
            {"fields": ["siret", "rcs", "vat_applies", "vat_number", "share_capital"]},
        ),
        (_("Contact"), {"fields": ["email", "phone", "website"]}),
        (
            _("Devis"),
            {
                "fields": [
                    "default_vat_rate",
                    "quote_validity_days",
                    "payment_terms",
                    "legal_footer",
                ]
            },
        ),
    ]

    def has_add_permission(self, request):
        return (
            super().has_add_permission(request) and not CompanyProfile.objects.exists()
        )

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # One profile: the list is its form.
        if not self.has_view_permission(request):
            return super().changelist_view(request, extra_context)
        profile = CompanyProfile.load()
        return HttpResponseRedirect(
            reverse("admin:documents_companyprofile_change", args=[profile.pk])
        )


@admin.register(DocumentCategory)
class DocumentCategoryAdmin(AdminsOnly, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["label", "code", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"code": ["label"]}

    def get_readonly_fields(self, request, obj=None):
        # A code that documents or checklists use never changes.
        return ["code"] if obj and obj.documents.exists() else []

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.documents.exists():
            return False
        return super().has_delete_permission(request, obj)


class ReadOnly:
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Document)
class DocumentAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ["title", "version", "is_current", "case", "category", "uploaded_at"]
    list_filter = ["category", "is_current", "origin"]
    search_fields = ["title", "case__reference", "original_name", "sha256"]
    list_select_related = ["case", "category"]
    exclude = ["file"]

    def has_module_permission(self, request):
        return access.is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return access.is_admin(request.user)


@admin.register(Quote)
class QuoteAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ["__str__", "case", "status", "total_ttc", "issued_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["number", "case__reference", "client_name"]
    list_select_related = ["case"]
    exclude = ["token_hash"]

    def has_module_permission(self, request):
        return access.is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return access.is_admin(request.user)
