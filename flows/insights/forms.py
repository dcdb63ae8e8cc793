"""Forms of the insights feature: the self-test's answer sheet."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class DiagnosticForm(forms.Form):
    """One yes/no radio group per statement of the self-test."""

    CHOICES = [("yes", _("Oui")), ("no", _("Non"))]

    def __init__(self, *args, statements=(), **kwargs):
        super().__init__(*args, **kwargs)
        for index, statement in enumerate(statements, start=1):
            self.fields[f"q{index}"] = forms.ChoiceField(
                label=statement,
                choices=self.CHOICES,
                widget=forms.RadioSelect,
                error_messages={"required": _("Répondez par oui ou par non.")},
            )

    def answers(self) -> list[bool]:
        return [self.cleaned_data[name] == "yes" for name in self.fields]
