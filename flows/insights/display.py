"""How the figures of /insights/ are written and linked, for charts and tables alike."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _


def days_text(value: timedelta | None) -> str:
    """ "3,5 j" (or "5 h" under a day), in the active language."""
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    if hours < 24:
        return _("%(n)s h") % {"n": formats.number_format(round(hours), 0)}
    return _("%(n)s j") % {"n": formats.number_format(hours / 24, 1)}


def percent_text(share: float | None) -> str:
    if share is None:
        return "—"
    # French writes "58 %", English "58%": the translators decide.
    return _("%(percent)s %%") % {
        "percent": formats.number_format(round(share * 100), 0)
    }


def money_text(amount: Decimal | None) -> str:
    return f"{formats.number_format(amount or 0, 0, force_grouping=True)} €"


def cases_url(figure: str, days: int, **params: str) -> str:
    """The list of the cases behind `figure` (empty parameters left out)."""
    query = {"figure": figure, "days": days} | {k: v for k, v in params.items() if v}
    return reverse("flows:insight_cases") + "?" + urlencode(query)
