from django.urls import path

from . import views

urlpatterns = [
    path("complaints/", views.ComplaintListView.as_view(), name="complaint-list"),
    path(
        "complaints/intake-context/",
        views.IntakeContextView.as_view(),
        name="complaint-intake-context",
    ),
    path("complaint-config/", views.ComplaintConfigView.as_view(), name="complaint-config"),
    path("complaints/<int:pk>/", views.ComplaintDetailView.as_view(), name="complaint-detail"),
    path(
        "complaints/<int:pk>/history/",
        views.ComplaintHistoryView.as_view(),
        name="complaint-history",
    ),
    *[
        path(
            f"complaints/<int:pk>/{name}/",
            views.action_view(name, input_class),
            name=f"complaint-{name}",
        )
        for name, input_class in views.ACTIONS.items()
    ],
]
