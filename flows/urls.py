"""viewflow's own screens for a process (chart and task list), for staff."""

from django.urls import path
from viewflow.workflow.flow import FlowViewset

from .ticket import TicketFlow

urlpatterns = [path("tickets/", FlowViewset(TicketFlow).urls)]
