from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import admin_views, views

router = SimpleRouter()
router.register("teams", admin_views.TeamViewSet, basename="team")
router.register("calendars", admin_views.CalendarViewSet, basename="calendar")
router.register("sla-policies", admin_views.SlaPolicyViewSet, basename="sla-policy")

urlpatterns = [
    path("auth/token/", admin_views.TokenView.as_view(), name="auth-token"),
    path("auth/logout/", admin_views.LogoutView.as_view(), name="auth-logout"),
    path("auth/socket-ticket/", admin_views.SocketTicketView.as_view(), name="auth-socket-ticket"),
    path("me/", admin_views.MeView.as_view(), name="me"),
    path("queue/", views.QueueView.as_view(), name="queue"),
    path("board/", views.BoardView.as_view(), name="board"),
    path("tickets/", views.TicketListView.as_view(), name="ticket-list"),
    path("tickets/<int:pk>/", views.TicketDetailView.as_view(), name="ticket-detail"),
    path("tickets/<int:pk>/messages/", views.TicketMessagesView.as_view(), name="ticket-messages"),
    path("tickets/<int:pk>/history/", views.TicketHistoryView.as_view(), name="ticket-history"),
    *[
        path(
            f"tickets/<int:pk>/{name}/", views.action_view(name, input_class), name=f"ticket-{name}"
        )
        for name, input_class in views.ACTIONS.items()
    ],
    path("", include(router.urls)),
]
