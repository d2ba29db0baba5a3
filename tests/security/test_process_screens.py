"""Nothing moves a process but Kefu's services (issue 8, item 1): viewflow's own screens are
not served, and its admin pages only show."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from viewflow.workflow.models import Process, Task

from tests.factories import open_ticket

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/workflow/tickets/",
        "/workflow/tickets/1/",
        "/workflow/tickets/1/work/1/assign/",
        "/workflow/tickets/chart/",
    ],
)
def test_viewflows_task_screens_are_not_served(desk: Any, path: str) -> None:
    open_ticket(desk)
    assert signed_in(desk.outsider).get(path).status_code == 404
    assert signed_in(desk.admin).get(path).status_code == 404


def test_the_admin_shows_processes_and_tasks_but_changes_nothing(desk: Any) -> None:
    ticket = open_ticket(desk)
    desk.admin.is_staff = True
    desk.admin.is_superuser = True
    desk.admin.save(update_fields=["is_staff", "is_superuser"])
    task = Task.objects.filter(process__ticketprocess__ticket_id=ticket.pk).latest("pk")
    process = Process.objects.get(pk=task.process_id)
    admin = signed_in(desk.admin)

    assert admin.get(f"/admin/viewflow/task/{task.pk}/change/").status_code == 200
    assert admin.get(f"/admin/viewflow/process/{process.pk}/change/").status_code == 200
    change = admin.post(f"/admin/viewflow/task/{task.pk}/change/", {"status": "DONE"})
    delete = admin.post(f"/admin/viewflow/process/{process.pk}/delete/", {"post": "yes"})

    assert change.status_code == delete.status_code == 403
    task.refresh_from_db()
    assert task.status != "DONE"
    assert Process.objects.filter(pk=process.pk).exists()
