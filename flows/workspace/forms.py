"""Forms for cases: what users type, validated and normalised."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from flows import access
from flows.engine import normalize
from flows.engine.services import EDITABLE_FIELDS
from flows.models import Case

# The details a user edits are exactly those the service accepts.
CASE_FIELDS = list(EDITABLE_FIELDS)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class CaseForm(forms.ModelForm):
    """The details of a case (never its status: only the service moves it)."""

    class Meta:
        model = Case
        fields = CASE_FIELDS
        widgets = {
            "next_action_due": DateInput(),
            "meeting_at": DateTimeInput(),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        self.fields["amount"].widget.attrs.update(
            {"step": "0.01", "min": "0", "inputmode": "decimal"}
        )

    def clean_email(self) -> str:
        return normalize.email(self.cleaned_data.get("email", ""))

    def clean_phone(self) -> str:
        try:
            return normalize.phone(self.cleaned_data.get("phone", ""))
        except ValidationError as error:
            raise ValidationError(error.messages) from error

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in CASE_FIELDS}


class TeamMemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return access.display_name(obj)


class NewCaseForm(CaseForm):
    owner = TeamMemberChoiceField(
        queryset=None,
        required=False,
        label=_("Responsable du dossier"),
        empty_label=_("Personne (à attribuer)"),
    )

    class Meta(CaseForm.Meta):
        fields = CASE_FIELDS

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class MoveForm(forms.Form):
    target = forms.CharField(max_length=50)
    expected_status = forms.CharField(max_length=50, required=False)
    reason = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    override = forms.BooleanField(required=False)
    next = forms.CharField(max_length=2000, required=False)
    # Asked for when the move needs a new next action (the `next_action`
    # guard); applied with the move.
    next_action = forms.CharField(max_length=200, required=False)
    next_action_due = forms.DateField(required=False, widget=DateInput())


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Commentaire"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AssignForm(forms.Form):
    owner = TeamMemberChoiceField(
        queryset=None, required=False, label=_("Responsable du dossier")
    )

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class NextActionForm(forms.Form):
    """The current next action is done; here is the next one."""

    # Prefixed: the case page also holds the edit form's next action.
    prefix = "done"

    next_action = forms.CharField(label=_("Prochaine action"), max_length=200)
    next_action_due = forms.DateField(label=_("Échéance"), widget=DateInput())


class WaitingForm(forms.Form):
    prefix = "waiting"

    reason = forms.CharField(
        label=_("Ce que le client doit faire"),
        max_length=200,
        help_text=_("Par exemple : « Attend l'accord de son associé »."),
    )
    until = forms.DateField(
        label=_("Retour prévu le"),
        widget=DateInput(),
        help_text=_("Le dossier revient tout seul dans vos listes ce jour-là."),
    )


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(label=_("Langue des e-mails"), choices=())
    daily_digest = forms.BooleanField(
        label=_("Recevoir le récapitulatif quotidien par e-mail"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = list(settings.LANGUAGES)
