"""Project-wide form pieces: login and password reset (throttling, no account
oracle), and how a service's refusal is shown on a form."""

from __future__ import annotations

from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import MaxLengthValidator
from django.template import loader
from django.utils.translation import gettext as _

from config import mail, throttle


class LoginForm(auth_forms.AuthenticationForm):
    """Django's login form, with a clear message when throttling refused."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # AuthenticationForm sets max_length once the field is built, so no
        # validator checks it: a 10,000-character username reached
        # authenticate() and django-axes' varchar(255), a 500 on PostgreSQL.
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))

    def get_invalid_login_error(self) -> ValidationError:
        limit = throttle.tripped_limit(self.request)
        if limit is None:
            return super().get_invalid_login_error()
        minutes = throttle.retry_minutes()
        if limit == throttle.IP:
            message = _(
                "Trop de tentatives de connexion depuis votre adresse réseau. "
                "Réessayez dans %(minutes)s min."
            )
        else:
            message = _(
                "Trop de tentatives de connexion sur ce compte. Réessayez dans "
                "%(minutes)s min ; si ce compte existe, son titulaire est "
                "prévenu par e-mail."
            )
        return ValidationError(message, code="throttled", params={"minutes": minutes})


class PasswordResetForm(auth_forms.PasswordResetForm):
    """The same work for a known and an unknown address.

    Django's form renders and sends a message for a known address only, so
    the answer's delay says whether an account exists. Here an unknown
    address gets a stand-in user whose message is rendered (same templates,
    same token computation) and dropped; a real message is sent after the
    response (`config.mail`), so the SMTP round trip is in neither answer.
    """

    def get_users(self, email):
        users = list(super().get_users(email))
        if users:
            return users
        user_model = get_user_model()
        stand_in = user_model(**{user_model.get_email_field_name(): email})
        stand_in._pilote_stand_in = True
        return [stand_in]

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = loader.render_to_string(subject_template_name, context)
        subject = "".join(subject.splitlines())
        body = loader.render_to_string(email_template_name, context)
        message = EmailMultiAlternatives(subject, body, from_email, [to_email])
        if html_email_template_name is not None:
            html = loader.render_to_string(html_email_template_name, context)
            message.attach_alternative(html, "text/html")
        if not getattr(context["user"], "_pilote_stand_in", False):
            mail.send_after_response(message.send)


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form that fed it.

    Errors on a field the form has go beside that field; the others (and a
    plain message) at the top. What the user typed stays in the form.
    """
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
