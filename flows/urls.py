from django.urls import path

from flows.insights.views import diagnostic, insights
from flows.intake.views import exports, imports
from flows.workspace.views import board, case_new, cases, notifications, pages

app_name = "flows"

urlpatterns = [
    path("board/", board.board, name="board"),
    path("board/columns/<slug:code>/", board.board_column, name="board_column"),
    path("board/export/", exports.board_export, name="board_export"),
    path("cases/new/", case_new.case_new, name="case_new"),
    path("cases/new/duplicates/", case_new.case_duplicates, name="case_duplicates"),
    path("cases/<str:reference>/", cases.case_detail, name="case_detail"),
    path("cases/<str:reference>/move/", cases.case_move, name="case_move"),
    path("cases/<str:reference>/edit/", cases.case_edit, name="case_edit"),
    path(
        "cases/<str:reference>/checklist/<int:item_id>/",
        cases.checklist_toggle,
        name="checklist_toggle",
    ),
    path("cases/<str:reference>/owner/", cases.case_assign, name="case_assign"),
    path("cases/<str:reference>/comments/", cases.comment_add, name="comment_add"),
    path(
        "cases/<str:reference>/next-action/",
        cases.next_action_done,
        name="next_action_done",
    ),
    path("cases/<str:reference>/waiting/", cases.case_waiting, name="case_waiting"),
    path(
        "cases/<str:reference>/waiting/end/",
        cases.case_waiting_end,
        name="case_waiting_end",
    ),
    path("today/", pages.my_day, name="today"),
    path("flow/", pages.flow_map, name="flow_map"),
    path("insights/", insights.insights, name="insights"),
    path("insights/cases/", insights.insight_cases, name="insight_cases"),
    path("diagnostic/", diagnostic.diagnostic, name="diagnostic"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.mark_read, name="notifications_read"),
    path(
        "notifications/preferences/",
        notifications.preferences,
        name="notification_preferences",
    ),
    # Data in and out (issue 8): CSV import for managers.
    path("import/", imports.import_upload, name="import_upload"),
    path("import/<str:token>/", imports.import_preview, name="import_preview"),
    path(
        "import/<str:token>/progress/",
        imports.import_progress,
        name="import_progress",
    ),
    path("import/<str:token>/done/", imports.import_done, name="import_done"),
    path("import/<str:token>/errors.csv", imports.import_errors, name="import_errors"),
]
