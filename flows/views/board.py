from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def board(request: HttpRequest) -> HttpResponse:
    return render(request, "coming_soon.html", {"page": "board"})


def board_column(request: HttpRequest, code: str) -> HttpResponse:
    return HttpResponse("")
