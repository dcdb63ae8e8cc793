"""The admin's audit hook, for every app whose configuration the admin edits."""

from audit import services as audit


class AuditedAdminMixin:
    """Every configuration change made in the admin leaves an audit event."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            "config_changed" if change else "config_created",
            user=request.user,
            obj=obj,
            data={"object": str(obj), "fields": sorted(form.changed_data)},
        )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            audit.record(
                "config_created", user=request.user, obj=obj, data={"object": str(obj)}
            )
        for obj, fields in formset.changed_objects:
            audit.record(
                "config_changed",
                user=request.user,
                obj=obj,
                data={"object": str(obj), "fields": sorted(fields)},
            )
        for obj in formset.deleted_objects:
            audit.record("config_deleted", user=request.user, data={"object": str(obj)})

    def delete_model(self, request, obj):
        description = str(obj)
        super().delete_model(request, obj)
        audit.record("config_deleted", user=request.user, data={"object": description})
