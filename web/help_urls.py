"""The customer pages under ``/help/`` (web/help_views.py)."""

from django.urls import path

from . import help_views, respond_views

app_name = "help"

urlpatterns = [
    path("", help_views.request_form, name="form"),
    path("sent/<str:receipt>/", help_views.sent, name="sent"),
    path("requests/", help_views.find_requests, name="lookup"),
    path("requests/<str:token>/", help_views.request_detail, name="request"),
    path("requests/<str:token>/renew/", help_views.renew_link, name="renew"),
    # the complaint's outcome email: accept or dispute (web/respond_views.py)
    path("complaints/<str:token>/", respond_views.respond, name="complaint-respond"),
    path(
        "requests/<str:token>/files/<int:attachment_id>/",
        help_views.download,
        name="file",
    ),
]
