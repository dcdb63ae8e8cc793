"""New case page, with duplicate warnings while typing. (Being written.)"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def case_new(request: HttpRequest) -> HttpResponse:
    return render(request, "coming_soon.html", {"page": "case_new"})


def case_duplicates(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")
