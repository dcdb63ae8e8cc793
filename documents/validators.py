"""Validators and upload names of the documents models.

The migrations name these by their path in documents.models, which imports
them from here.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from PIL import Image

from documents import uploads


def document_storage_name(instance, filename: str) -> str:
    """A random, extension-less name: nothing about the file or case leaks."""
    return f"documents/{uuid.uuid4().hex}"


def logo_storage_name(instance, filename: str) -> str:
    return f"company/{uuid.uuid4().hex}"


siret_validator = RegexValidator(r"^\d{14}$", _("Un SIRET compte 14 chiffres."))


def validate_siret(value: str) -> None:
    """14 digits and the Luhn key (La Poste's establishments use their own rule)."""
    siret_validator(value)
    if value.startswith("356000000"):
        if sum(int(digit) for digit in value) % 5 == 0:
            return
    else:
        total = 0
        for index, digit in enumerate(reversed(value)):
            number = int(digit) * (2 if index % 2 else 1)
            total += number - 9 if number > 9 else number
        if total % 10 == 0:
            return
    raise ValidationError(_("Ce SIRET n'est pas valide (clé de contrôle)."))


def validate_vat_number(value: str) -> None:
    """A French VAT number's key must match its SIREN; others: a plausible shape."""
    value = value.replace(" ", "").upper()
    if value.startswith("FR"):
        rest = value[2:]
        if len(rest) != 11 or not rest[2:].isdigit():
            raise ValidationError(
                _("Un numéro de TVA français s'écrit FR, une clé, puis le SIREN.")
            )
        if rest[:2].isdigit():
            siren = int(rest[2:])
            if int(rest[:2]) != (12 + 3 * (siren % 97)) % 97:
                raise ValidationError(
                    _("La clé de ce numéro de TVA ne correspond pas au SIREN.")
                )
        return
    if not (4 <= len(value) <= 16 and value[:2].isalpha() and value[2:].isalnum()):
        raise ValidationError(_("Numéro de TVA intracommunautaire non valide."))


def validate_logo(file) -> None:
    """PNG or JPEG only, small, and really an image (decoded by Pillow)."""
    if file.size > 1024 * 1024:
        raise ValidationError(_("Le logo doit peser moins de 1 Mo."))
    file.seek(0)
    head = file.read(8192)
    file.seek(0)
    kind = uploads.sniff_image(head)
    if kind not in ("image/png", "image/jpeg") or uploads.has_markup(head):
        raise ValidationError(_("Le logo doit être une image PNG ou JPEG."))
    try:
        with Image.open(file) as image:
            image.verify()
    except Exception as error:  # noqa: BLE001 - any decoding failure is a refusal
        raise ValidationError(_("Ce fichier n'est pas une image lisible.")) from error
    finally:
        file.seek(0)
