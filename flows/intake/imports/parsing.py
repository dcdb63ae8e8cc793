"""Cell values as spreadsheets in France write them: amounts, dates, times.

"12 500,50 €", 31/01/2026, 14h30; and one-line text for every cell.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from django.utils import timezone


def one_line(value: str) -> str:
    """Strip, and fold line breaks and tabs (and other controls) into spaces.

    Safe for an e-mail header too: no CR or LF is left.
    """
    return " ".join(
        re.sub(r"[\x00-\x1f\x7f\u2028\u2029\x85]", " ", value or "").split()
    )


def parse_amount(raw: str) -> Decimal:
    """ "12 500,50 €", "12500.5", "1.234.567,89", "1,234.50" → Decimal (cents).

    One comma is a decimal comma (French); with both signs, the last one is
    the decimal separator. Raises ValueError.
    """
    text = re.sub(r"[\s\u00a0\u202f']", "", raw)
    text = re.sub(r"(?i)(€|eur|euros?)$", "", text)
    text = re.sub(r"(?i)^(€|eur)", "", text)
    if not re.fullmatch(r"[-+]?\d[\d.,]*", text):
        raise ValueError(raw)
    if "," in text and "." in text:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        other = "." if decimal_sep == "," else ","
        text = text.replace(other, "").replace(decimal_sep, ".")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    elif "," in text or text.count(".") > 1:
        text = text.replace(",", "").replace(".", "")
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(raw) from error
    # The default context holds 28 digits: quantizing 27 digits or more to
    # cents would raise InvalidOperation (a 500). With enough precision the
    # value comes back whole, and the caller bounds it to the field's digits.
    context = Context(prec=len(value.as_tuple().digits) + 3)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP, context=context)


_DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y/%m/%d")
_TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%Hh%M", "%Hh")


def parse_date(raw: str) -> date:
    """31/01/2026, 31/01/26, 31-01-2026, 31.01.2026, 2026-01-31 (a midnight
    time after it, as spreadsheets add, is ignored). Raises ValueError."""
    text = raw.strip().split("T")[0].split(" ")[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(raw)


def parse_datetime(raw: str) -> datetime:
    """A date, optionally followed by a time (14:30, 14h30); 9:00 when none."""
    text = raw.strip().replace("T", " ")
    day_part, _space, time_part = text.partition(" ")
    day = parse_date(day_part)
    moment = time(9, 0)
    time_part = time_part.strip()
    if time_part:
        for fmt in _TIME_FORMATS:
            try:
                moment = datetime.strptime(time_part, fmt).time()
                break
            except ValueError:
                continue
        else:
            raise ValueError(raw)
    return timezone.make_aware(datetime.combine(day, moment))


def working_days_after(day: date, count: int) -> date:
    """`count` working days (Monday to Friday) after `day`."""
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day
