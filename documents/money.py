"""Quote arithmetic in Decimal: each line rounded to the cent, VAT per rate.

French practice (and what the PDF shows): a line's amount excluding tax is
quantity × unit price rounded half-up to the cent; the lines are summed per
VAT rate; the VAT of a rate is computed once on that rate's base and rounded;
the totals add up the rounded figures, so every printed number adds up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_total(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return cents(Decimal(quantity) * Decimal(unit_price))


@dataclass(frozen=True)
class VatGroup:
    rate: Decimal
    base: Decimal
    vat: Decimal


@dataclass(frozen=True)
class Totals:
    groups: list[VatGroup] = field(default_factory=list)
    total_ht: Decimal = Decimal("0.00")
    total_vat: Decimal = Decimal("0.00")
    total_ttc: Decimal = Decimal("0.00")
    line_totals: list[Decimal] = field(default_factory=list)


def totals(lines: Iterable[tuple[Decimal, Decimal, Decimal]]) -> Totals:
    """Totals of (quantity, unit price HT, VAT rate in %) lines."""
    bases: dict[Decimal, Decimal] = {}
    line_totals = []
    for quantity, unit_price, rate in lines:
        amount = line_total(quantity, unit_price)
        line_totals.append(amount)
        rate = Decimal(rate or 0).quantize(CENT)
        bases[rate] = bases.get(rate, Decimal("0.00")) + amount
    groups = [
        VatGroup(rate=rate, base=base, vat=cents(base * rate / HUNDRED))
        for rate, base in sorted(bases.items(), reverse=True)
    ]
    total_ht = sum((group.base for group in groups), Decimal("0.00"))
    total_vat = sum((group.vat for group in groups), Decimal("0.00"))
    return Totals(
        groups=groups,
        total_ht=total_ht,
        total_vat=total_vat,
        total_ttc=total_ht + total_vat,
        line_totals=line_totals,
    )
