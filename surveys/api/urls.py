from django.urls import path

from . import views

urlpatterns = [
    path("surveys/responses/", views.ResponseListView.as_view(), name="survey-responses"),
    path(
        "surveys/responses/<int:pk>/",
        views.ResponseDetailView.as_view(),
        name="survey-response-detail",
    ),
    path("reports/csat/", views.CsatReportView.as_view(), name="report-csat"),
]
