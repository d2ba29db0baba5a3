from django.contrib.auth.views import LogoutView
from django.urls import path

from . import (
    api,
    two_factor_views,
    urls_customers,
    urls_duplicates,
    urls_imports,
    urls_privacy,
    urls_records,
    urls_segments,
    views,
    views_complaints,
    views_desk,
    views_reports,
    views_tickets,
)

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.ThrottledLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(next_page="web:login"), name="logout"),
    # docs/security.md, "Second factor"
    path("login/code/", two_factor_views.verify, name="two-step-verify"),
    path("login/enrol/", two_factor_views.enrol, name="two-step-enrol"),
    path("account/two-step/", two_factor_views.manage, name="two-step"),
    path("queue/", views.queue, name="queue"),
    path("board/", views.board, name="board"),
    path("board/complaints/", views.board_complaints, name="board-complaints"),
    path("tickets/", views_tickets.tickets, name="tickets"),
    path("tickets/new/", views_desk.new_ticket, name="new-ticket"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:pk>/process/", views.ticket_process, name="ticket-process"),
    path("tickets/<int:pk>/escalate/", views.escalate_ticket, name="ticket-escalate"),
    # the agent's complaint screens (docs/ui.md, "Complaints")
    path("complaints/", views_complaints.complaints_list, name="complaints"),
    path("complaints/new/", views_complaints.new_complaint, name="new-complaint"),
    path(
        "complaints/new/context/",
        views_complaints.new_complaint_context,
        name="complaint-context",
    ),
    path("complaints/<int:pk>/", views_complaints.complaint_detail, name="complaint"),
    path(
        "complaints/<int:pk>/process/",
        views_complaints.complaint_process,
        name="complaint-process",
    ),
    path("complaints/<int:pk>/act/", views_complaints.complaint_action, name="complaint-action"),
    # the complaint report and its exports (docs/reports.md)
    path("reports/complaints/", views_reports.complaint_report, name="report-complaints"),
    path(
        "reports/complaints/statistics.csv",
        views_reports.statistics_csv,
        name="report-statistics-csv",
    ),
    path("reports/complaints/register.csv", views_reports.register_csv, name="report-register-csv"),
    path(
        "reports/complaints/register.xlsx", views_reports.register_xlsx, name="report-register-xlsx"
    ),
    # the tickets screen's saved views (docs/tickets.md, "Tickets list and search")
    path("api/saved-views/", api.SavedViewListView.as_view(), name="saved-views"),
    path("api/saved-views/<int:pk>/", api.SavedViewDetailView.as_view(), name="saved-view"),
]
# customers 360 (docs/customers.md): each area's screens in its own module
urlpatterns += [
    *urls_customers.urlpatterns,
    *urls_records.urlpatterns,
    *urls_duplicates.urlpatterns,
    *urls_segments.urlpatterns,
    *urls_imports.urlpatterns,
    *urls_privacy.urlpatterns,
]
