"""My day and the flow map. (Being written.)"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def my_day(request: HttpRequest) -> HttpResponse:
    return render(request, "coming_soon.html", {"page": "today"})


def flow_map(request: HttpRequest) -> HttpResponse:
    return render(request, "coming_soon.html", {"page": "flow"})
