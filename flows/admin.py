"""Admin for the flow configuration (admins) and a read-only view of cases."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from audit import services as audit
from audit.admin import AuditedAdminMixin
from flows import access
from flows.engine import graph, services
from flows.intake import leadform
from flows.models import (
    MAX_STATUSES,
    MAX_STATUSES_MESSAGE,
    Case,
    ChecklistItem,
    Flow,
    LeadFormSettings,
    Status,
    Transition,
    Webhook,
    WebhookDelivery,
)
from flows.outbox import webhooks


class StatusInlineFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.has_changed() or form.instance.pk
            if not self._should_delete_form(form)
        ]
        if len(kept) > MAX_STATUSES:
            raise ValidationError(MAX_STATUSES_MESSAGE)
        for form in self.deleted_forms:
            if form.instance.pk and form.instance.is_used():
                raise ValidationError(
                    _(
                        "Le statut « %(label)s » est ou a été utilisé par des dossiers : "
                        "il ne peut pas être supprimé."
                    )
                    % {"label": form.instance.label}
                )


class StatusInline(admin.TabularInline):
    model = Status
    formset = StatusInlineFormSet
    extra = 0
    max_num = MAX_STATUSES
    fields = ["position", "code", "label", "kind", "color", "sla_days", "wip_limit"]
    show_change_link = True


class TransitionInline(admin.TabularInline):
    model = Transition
    extra = 0
    fields = [
        "source",
        "target",
        "label",
        "allowed_roles",
        "requires_reason",
        "enforce_checklist",
    ]

    def get_formset(self, request, obj=None, **kwargs):
        # Offer only this flow's statuses as ends of a transition.
        self._flow = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in ("source", "target"):
            flow = getattr(self, "_flow", None)
            kwargs["queryset"] = (
                Status.objects.filter(flow=flow) if flow else Status.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class FlowForm(forms.ModelForm):
    class Meta:
        model = Flow
        fields = ["name", "slug", "is_active", "require_next_action"]

    def clean(self):
        data = super().clean()
        # The same soundness rules as services.activate_flow.
        if data.get("is_active") and self.instance.pk:
            problems = graph.activation_problems(self.instance)
            if problems:
                self.add_error("is_active", problems)
        return data


@admin.register(Flow)
class FlowAdmin(AuditedAdminMixin, SimpleHistoryAdmin):
    form = FlowForm
    list_display = ["name", "slug", "is_active", "status_count"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [StatusInline, TransitionInline]
    actions = ["activate"]

    @admin.display(description=_("statuts"))
    def status_count(self, obj: Flow) -> int:
        return obj.statuses.count()

    @admin.action(description=_("Activer le flux sélectionné"))
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choisissez un seul flux."), messages.ERROR)
            return
        flow = queryset.get()
        try:
            services.activate_flow(flow, user=request.user)
        except ValidationError as error:
            self.message_user(
                request,
                _("« %(flow)s » ne peut pas être activé : %(problems)s")
                % {"flow": flow, "problems": " ".join(error.messages)},
                messages.ERROR,
            )
        else:
            self.message_user(
                request, _("« %(flow)s » est le flux actif.") % {"flow": flow}
            )


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = [
        "position",
        "label",
        "kind",
        "field_name",
        "document_category",
        "required",
        "help_text",
    ]


@admin.register(Status)
class StatusAdmin(AuditedAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "label",
        "flow",
        "position",
        "code",
        "kind",
        "sla_days",
        "wip_limit",
    ]
    list_filter = ["flow", "kind"]
    ordering = ["flow", "position"]
    inlines = [ChecklistItemInline]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_used():
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        used = [status for status in queryset if status.is_used()]
        if used:
            self.message_user(
                request,
                ngettext(
                    "%(labels)s est utilisé par des dossiers : rien n'a été supprimé.",
                    "%(labels)s sont utilisés par des dossiers : rien n'a été supprimé.",
                    len(used),
                )
                % {"labels": ", ".join(status.label for status in used)},
                messages.ERROR,
            )
            return
        super().delete_queryset(request, queryset)


@admin.register(Transition)
class TransitionAdmin(AuditedAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "__str__",
        "label",
        "flow",
        "allowed_roles",
        "requires_reason",
        "enforce_checklist",
    ]
    list_filter = ["flow", "allowed_roles"]
    list_select_related = ["source", "target", "flow"]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(AuditedAdminMixin, SimpleHistoryAdmin):
    list_display = ["label", "status", "kind", "required", "position"]
    list_filter = ["status__flow", "kind", "required"]
    list_select_related = ["status"]


@admin.register(Case)
class CaseAdmin(SimpleHistoryAdmin):
    """Read-only: cases are created and moved in the app, through the services."""

    list_display = [
        "reference",
        "title",
        "company",
        "status",
        "owner",
        "amount",
        "updated_at",
    ]
    list_filter = ["flow", "status"]
    search_fields = ["reference", "title", "company", "contact_name", "email"]
    list_select_related = ["owner"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Data in and out (issue 8): the public lead form and webhooks ----------------


@admin.register(LeadFormSettings)
class LeadFormSettingsAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """One row: the list opens it directly."""

    fieldsets = [
        (None, {"fields": ["enabled"]}),
        (_("Champs demandés"), {"fields": ["ask_company", "ask_phone", "ask_message"]}),
        (_("Attribution"), {"fields": ["assignment", "fixed_owner"]}),
        (None, {"fields": ["thank_you_text"]}),
    ]

    def changelist_view(self, request, extra_context=None):
        row = leadform.lead_settings()
        return redirect("admin:flows_leadformsettings_change", row.pk)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "fixed_owner":
            kwargs["queryset"] = access.team_members()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class WebhookForm(forms.ModelForm):
    url = forms.URLField(
        label=_("Adresse"),
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField"}),
        help_text=_("https:// ; jamais une adresse privée ou locale."),
    )
    events = forms.MultipleChoiceField(
        label=_("Événements"),
        choices=Webhook.Event.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Webhook
        fields = ["name", "url", "secret", "events", "is_active"]


@admin.register(Webhook)
class WebhookAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = WebhookForm
    list_display = ["name", "url", "event_list", "is_active", "created_at"]
    list_filter = ["is_active"]
    readonly_fields = ["delivery_log"]
    fields = ["name", "url", "secret", "events", "is_active", "delivery_log"]

    @admin.display(description=_("événements"))
    def event_list(self, obj: Webhook) -> str:
        return ", ".join(obj.events or [])

    @admin.display(description=_("derniers envois"))
    def delivery_log(self, obj: Webhook):
        if obj.pk is None:
            return "—"
        rows = obj.deliveries.order_by("-created_at", "-pk")[:20]
        table = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td></tr>",
            (
                (
                    d.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    d.event,
                    d.get_state_display(),
                    d.attempts,
                    d.last_status_code or "—",
                    f"{d.last_duration_ms} ms"
                    if d.last_duration_ms is not None
                    else "—",
                    d.last_error[:120] or "—",
                )
                for d in rows
            ),
        )
        url = (
            reverse("admin:flows_webhookdelivery_changelist")
            + f"?webhook__id__exact={obj.pk}"
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">{}</a></p>',
            _("créé"),
            _("événement"),
            _("état"),
            _("tentatives"),
            _("code HTTP"),
            _("durée"),
            _("dernière erreur"),
            table,
            url,
            _("Tout le journal des envois"),
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only, with a "send again" action."""

    list_display = [
        "created_at",
        "webhook",
        "event",
        "state",
        "attempts",
        "last_status_code",
        "last_duration_ms",
        "short_error",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["state", "event", "webhook"]
    list_select_related = ["webhook"]
    date_hierarchy = "created_at"
    actions = ["send_again"]

    @admin.display(description=_("dernière erreur"))
    def short_error(self, obj: WebhookDelivery) -> str:
        return obj.last_error[:80]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Renvoyer maintenant"), permissions=["view"])
    def send_again(self, request, queryset):
        ids = list(
            queryset.exclude(state=WebhookDelivery.State.DELIVERED).values_list(
                "pk", flat=True
            )
        )
        count = webhooks.retry_now(queryset)
        webhooks.dispatch_on_commit(ids)
        audit.record("webhook_retry", user=request.user, data={"deliveries": count})
        self.message_user(
            request,
            _("%(count)s envois relancés.") % {"count": count},
        )
