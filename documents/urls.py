from django.urls import path

from documents import public_views, views

app_name = "documents"

CASE = "cases/<str:reference>/"

urlpatterns = [
    path(f"{CASE}documents/", views.document_upload, name="document_upload"),
    path(
        f"{CASE}documents/<int:pk>/download/",
        views.document_download,
        name="document_download",
    ),
    path(f"{CASE}quotes/", views.quote_create, name="quote_create"),
    path(f"{CASE}quotes/<int:pk>/", views.quote_save, name="quote_save"),
    path(f"{CASE}quotes/<int:pk>/totals/", views.quote_totals, name="quote_totals"),
    path(f"{CASE}quotes/<int:pk>/send/", views.quote_send, name="quote_send"),
    path(f"{CASE}quotes/<int:pk>/revise/", views.quote_revise, name="quote_revise"),
    path(f"{CASE}quotes/<int:pk>/delete/", views.quote_delete, name="quote_delete"),
    # Public, no login: the client's link (DESIGN §5).
    path("q/<str:token>/", public_views.quote_public, name="quote_public"),
    path("q/<str:token>/pdf/", public_views.quote_public_pdf, name="quote_public_pdf"),
    path("q/<str:token>/accept/", public_views.quote_accept, name="quote_accept"),
    path("q/<str:token>/decline/", public_views.quote_decline, name="quote_decline"),
]
