"""Forms of the security page and of the code step."""

from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    """A 6-digit code from the app, or (when `recovery`) a recovery code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )

    def __init__(self, *args, recovery: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        if recovery:
            field.help_text = _(
                "Les 6 chiffres affichés par votre application, ou un de vos "
                "codes de secours."
            )
        else:
            field.label = _("Code à 6 chiffres")
            field.widget.attrs.update({"inputmode": "numeric", "pattern": r"[0-9 ]*"})


class DisableForm(forms.Form):
    """Disabling asks the password or a current code: one of the two."""

    password = forms.CharField(
        label=_("Mot de passe"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("ou un code de votre application"),
        required=False,
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )

    def clean(self):
        data = super().clean()
        if not data.get("password") and not data.get("code"):
            raise forms.ValidationError(
                _("Saisissez votre mot de passe ou un code de votre application.")
            )
        return data
