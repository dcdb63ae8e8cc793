"""Reading the audit log: filters for the managers' page and the export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone

from audit.models import AuditEvent, AuditVerification

PAGE_SIZE = 50


@dataclass(frozen=True)
class LogFilters:
    actor: str = ""
    action: str = ""
    case: str = ""  # a case reference
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_query(cls, query: QueryDict) -> LogFilters:
        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(query.get(name, ""))
            except ValueError:
                return None

        return cls(
            actor=query.get("actor", "").strip()[:150],
            action=query.get("action", "").strip()[:50],
            case=query.get("case", "").strip()[:20],
            since=day("since"),
            until=day("until"),
        )


def filtered_events(filters: LogFilters) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.select_related("case")
    if filters.actor:
        events = events.filter(actor_label__iexact=filters.actor)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.case:
        events = events.filter(case__reference=filters.case)
    zone = timezone.get_current_timezone()
    if filters.since:
        events = events.filter(
            at__gte=timezone.make_aware(datetime.combine(filters.since, time()), zone)
        )
    if filters.until:
        end = filters.until + timedelta(days=1)
        events = events.filter(
            at__lt=timezone.make_aware(datetime.combine(end, time()), zone)
        )
    return events


def log_page(
    filters: LogFilters, *, before: int | None = None
) -> tuple[list[AuditEvent], int | None]:
    """Newest first, keyset-paged on the sequence number."""
    events = filtered_events(filters).order_by("-sequence")
    if before:
        events = events.filter(sequence__lt=before)
    page = list(events[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    return page, (page[-1].sequence if more and page else None)


def known_actions() -> list[str]:
    return list(
        AuditEvent.objects.order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )


def last_verification() -> AuditVerification | None:
    return AuditVerification.objects.order_by("-at").first()
