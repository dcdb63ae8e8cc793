from django.urls import path

from config.views import coming_soon

app_name = "flows"

urlpatterns = [
    path("board/", coming_soon, {"page": "board"}, name="board"),
    path("today/", coming_soon, {"page": "today"}, name="today"),
    path("flow/", coming_soon, {"page": "flow"}, name="flow_map"),
    path("insights/", coming_soon, {"page": "insights"}, name="insights"),
    path("audit/", coming_soon, {"page": "audit"}, name="audit_log"),
]
