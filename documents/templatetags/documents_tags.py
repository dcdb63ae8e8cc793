"""Amounts, rates and quantities in the active language's format."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats

register = template.Library()


@register.filter
def euros(value) -> str:
    """1234.5 → "1 234,50 €" in French, "1,234.50 €" in English."""
    if value in (None, ""):
        return "—"
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return f"{formats.number_format(amount, 2, force_grouping=True)}\u00a0€"


@register.filter
def plain_number(value) -> str:
    """A decimal without useless zeros: 20.00 → "20", 5.50 → "5,5", 1.250 → "1,25"."""
    if value in (None, ""):
        return ""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    text = format(number.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    whole, _dot, fraction = text.partition(".")
    formatted = formats.number_format(Decimal(whole), 0, force_grouping=True)
    if fraction:
        formatted += formats.get_format("DECIMAL_SEPARATOR") + fraction
    return formatted


@register.filter
def at(sequence, index):
    """sequence[index], or None when out of range."""
    try:
        return sequence[int(index)]
    except (IndexError, TypeError, ValueError):
        return None
