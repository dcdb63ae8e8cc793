"""Normalised contact data, so duplicates are found and numbers dial."""

import re
import unicodedata
from contextlib import suppress

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def email(value: str) -> str:
    return (value or "").strip().lower()


def phone(value: str) -> str:
    """French numbers as "+33 1 23 45 67 89"; others as "+<digits>".

    Raises ValidationError for something that is not a phone number.
    """
    value = (value or "").strip()
    if not value:
        return ""
    if re.search(r"[^\d\s+().\-/]", value):
        raise ValidationError(
            _("Numéro de téléphone invalide : chiffres, espaces et + seulement.")
        )
    digits = re.sub(r"[^\d+]", "", value)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if "+" in digits[1:]:
        raise ValidationError(_("Numéro de téléphone invalide."))
    if re.fullmatch(r"0[1-9]\d{8}", digits):
        digits = "+33" + digits[1:]
    if re.fullmatch(r"\+33[1-9]\d{8}", digits):
        rest = digits[3:]
        return (
            "+33 " + rest[0] + " " + " ".join(rest[i : i + 2] for i in range(1, 9, 2))
        )
    bare = digits.lstrip("+")
    if not 6 <= len(bare) <= 15:
        raise ValidationError(_("Numéro de téléphone invalide."))
    return digits


def phone_digits(value: str) -> str:
    """The digits only, for comparing numbers written differently."""
    return re.sub(r"\D", "", value or "")


def phone_key(value: str) -> str:
    """The number's digits in its normalised form, for finding duplicates.

    "06 12 34 56 78" and "+33 6 12 34 56 78" agree; an invalid number is
    still compared by its digits; fewer than six digits (a number still
    being typed) give no key.
    """
    with suppress(ValidationError):
        value = phone(value)
    digits = phone_digits(value)
    return digits if len(digits) >= 6 else ""


def fold(value: str) -> str:
    """Case- and accent-insensitive form of a text, for duplicate detection."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    return " ".join(
        "".join(c for c in decomposed if not unicodedata.combining(c))
        .casefold()
        .split()
    )
