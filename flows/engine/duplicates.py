"""Cases that may be the same client: same e-mail, phone or company."""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, Q, Subquery

from flows.engine import normalize
from flows.models import Case, Status


def duplicate_candidates(
    *, email: str = "", phone: str = "", company: str = "", limit: int = 10
) -> list[tuple[Case, list[str]]]:
    """Existing cases with the same e-mail, phone or company, newest first.

    Each case comes with the names of the fields that matched ("email",
    "phone", "company") and carries a `status_label`. Two queries at most,
    whatever the number of cases.
    """
    email_key = normalize.email(email)
    phone_key = normalize.phone_key(phone)
    company_key = normalize.fold(company)
    if not (email_key or phone_key or company_key):
        return []
    # Phones written differently ("06 12…", "+33 6 12…", "06.12…") and
    # companies with other accents or case ("Société" / "societe") cannot be
    # compared by a lookup that works on both SQLite and PostgreSQL (no
    # unaccent on SQLite). So one query reads four short columns of the cases
    # that could match and Python compares the normalised forms; a second
    # query loads the newest matches. A small team's cases fit in memory.
    condition = Q(pk__in=[])
    if email_key:
        condition |= Q(email__iexact=email_key)
    if phone_key:
        condition |= ~Q(phone="")
    if company_key:
        condition |= ~Q(company="")
    rows = Case.objects.filter(condition).values_list(
        "pk", "email", "phone", "company", "created_at"
    )
    matched: dict[int, list[str]] = {}
    created: dict[int, datetime] = {}
    for pk, row_email, row_phone, row_company, created_at in rows:
        fields = []
        if email_key and normalize.email(row_email) == email_key:
            fields.append("email")
        if phone_key and normalize.phone_key(row_phone) == phone_key:
            fields.append("phone")
        if company_key and normalize.fold(row_company) == company_key:
            fields.append("company")
        if fields:
            matched[pk] = fields
            created[pk] = created_at
    if not matched:
        return []
    newest = sorted(matched, key=lambda pk: (created[pk], pk), reverse=True)[:limit]
    status_label = Status.objects.filter(
        flow_id=OuterRef("flow_id"), code=OuterRef("status")
    ).values("label")[:1]
    cases = (
        Case.objects.filter(pk__in=newest)
        .select_related("owner")
        .annotate(status_label=Subquery(status_label))
        .in_bulk()
    )
    return [(cases[pk], matched[pk]) for pk in newest if pk in cases]
