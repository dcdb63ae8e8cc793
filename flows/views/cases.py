from django.http import Http404, HttpRequest, HttpResponse


def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    raise Http404


case_move = case_edit = case_assign = comment_add = case_detail


def checklist_toggle(
    request: HttpRequest, reference: str, item_id: int
) -> HttpResponse:
    raise Http404
