"""Quote arithmetic: lines rounded to the cent, VAT per rate, totals that add up."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from documents import money

RATES = [Decimal("20"), Decimal("10"), Decimal("5.5"), Decimal("2.1"), Decimal("0")]

quantities = st.decimals(
    min_value=Decimal("0.001"), max_value=Decimal("99999"), places=3
)
prices = st.decimals(min_value=Decimal("-9999"), max_value=Decimal("99999"), places=2)
lines = st.lists(
    st.tuples(quantities, prices, st.sampled_from(RATES)), min_size=0, max_size=30
)


@settings(max_examples=300, deadline=None)
@given(lines)
def test_totals_are_the_sum_of_rounded_lines_per_rate(rows):
    totals = money.totals(rows)
    expected_lines = [
        (q * p).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for q, p, _r in rows
    ]
    assert totals.line_totals == expected_lines
    by_rate: dict[Decimal, Decimal] = {}
    for (_q, _p, rate), amount in zip(rows, expected_lines, strict=True):
        by_rate[rate] = by_rate.get(rate, Decimal(0)) + amount
    assert {g.rate: g.base for g in totals.groups} == by_rate
    for group in totals.groups:
        assert group.vat == (group.base * group.rate / 100).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    assert totals.total_ht == sum(expected_lines, Decimal(0))
    assert totals.total_vat == sum((g.vat for g in totals.groups), Decimal(0))
    assert totals.total_ttc == totals.total_ht + totals.total_vat
    for value in (totals.total_ht, totals.total_vat, totals.total_ttc):
        assert value == value.quantize(Decimal("0.01"))


def test_rounding_is_half_up_per_line():
    # 3 × 0.125 = 0.375 → 0.38 (half up), not 0.37 (banker's rounding).
    totals = money.totals([(Decimal("3"), Decimal("0.125"), Decimal("20"))])
    assert totals.line_totals == [Decimal("0.38")]


@pytest.mark.parametrize(
    ("rows", "ht", "vat", "ttc"),
    [
        ([], "0.00", "0.00", "0.00"),
        (
            [
                (Decimal("1"), Decimal("850.00"), Decimal("20")),
                (Decimal("68"), Decimal("24.50"), Decimal("10")),
                (Decimal("35"), Decimal("48.00"), Decimal("5.5")),
            ],
            "4196.00",
            "429.00",
            "4625.00",
        ),
        # VAT on the rate's base, not line by line: 3 × 0.05 € at 20 %.
        (
            [(Decimal("1"), Decimal("0.05"), Decimal("20"))] * 3,
            "0.15",
            "0.03",
            "0.18",
        ),
    ],
)
def test_known_totals(rows, ht, vat, ttc):
    totals = money.totals(rows)
    assert (totals.total_ht, totals.total_vat, totals.total_ttc) == (
        Decimal(ht),
        Decimal(vat),
        Decimal(ttc),
    )
