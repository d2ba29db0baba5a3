"""The process of a service work order, as a supervisor would draw it.

    opened (SLA clock started, routed, auto-assigned) -> work the ticket
    work the ticket -> waiting on customer (SLA paused; auto-close timer) -> auto-assign
    work the ticket -> resolved (auto-close timer; reopen) -> closed (reopen window) -> archived

Every node calls a service in ``tickets.services``; the ticket's status is
owned by those services and the switches only read it.

The SLA clock runs beside the process, not as a boundary timer of ``work``: the
platform's ladder (``sla.ladder``) fires warnings, breaches and escalation levels
set-wise without re-creating the human task, and a level that reassigns moves the
task through viewflow's activation API (docs/sla.md). The ticket page draws the
clock's ladder under this chart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.flow.views import UpdateProcessView

from tickets import services, sla
from tickets.choices import TicketStatus

from .models import TicketProcess

# The REST API completes the human task through the activation API; the
# node still needs a view for viewflow's own (admin) screens.
NO_FORM = UpdateProcessView.as_view(fields=[])


def _status_is(*statuses: str) -> Any:
    return lambda activation: activation.process.ticket.status in statuses


class TicketFlow(flow.Flow):
    process_class = TicketProcess
    lock_impl = lock.select_for_update_lock
    process_title = _("Service work order")
    process_description = _("A customer request worked to resolution under an SLA.")

    start = (
        flow.StartHandle(this.open_process)
        .Annotation(title=_("Ticket opened: SLA clock started, routed, auto-assigned"))
        .Next(this.work)
    )
    assign = flow.Function(this.auto_assign).Annotation(title=_("Auto-assign")).Next(this.work)
    work = (
        flow.View(NO_FORM)
        .Annotation(title=_("Work the ticket"))
        .Assign(this.current_assignee)
        .Next(this.after_work)
    )
    after_work = (
        flow.Switch()
        .Annotation(title=_("Outcome of the work"))
        .Case(this.waiting, _status_is(TicketStatus.PENDING_CUSTOMER))
        .Case(this.resolved, _status_is(TicketStatus.RESOLVED))
        .Case(this.closed, _status_is(TicketStatus.CLOSED))
        .Default(this.assign)
    )
    waiting = (
        flow.Handle()
        .Annotation(title=_("Waiting on the customer (SLA paused)"))
        .OnTimeout(this.pending_auto_close_at, this.close_unanswered, title=_("No reply"))
        .Next(this.after_waiting)
    )
    close_unanswered = (
        flow.Function(this.auto_close)
        .Annotation(title=_("Close: no reply from the customer"))
        .Next(this.closed)
    )
    after_waiting = (
        flow.Switch()
        .Annotation(title=_("Resumed or closed"))
        .Case(this.closed, _status_is(TicketStatus.CLOSED))
        .Default(this.assign)
    )
    resolved = (
        flow.Handle()
        .Annotation(title=_("Resolved: awaiting confirmation"))
        .OnTimeout(
            this.resolved_auto_close_at, this.close_resolved, title=_("Confirmed by silence")
        )
        .Next(this.after_resolved)
    )
    close_resolved = (
        flow.Function(this.auto_close)
        .Annotation(title=_("Close the resolved ticket"))
        .Next(this.closed)
    )
    after_resolved = (
        flow.Switch()
        .Annotation(title=_("Reopened or closed"))
        .Case(this.closed, _status_is(TicketStatus.CLOSED))
        .Default(this.assign)
    )
    closed = (
        flow.Handle()
        .Annotation(title=_("Closed (can be reopened)"))
        .OnTimeout(this.reopen_window_end, this.archive, title=_("Reopen window over"))
        .Next(this.assign)
    )
    archive = flow.Function(this.archive_ticket).Annotation(title=_("Archive")).Next(this.end)
    end = flow.End().Annotation(title=_("Done"))

    # --- node callbacks: each calls one service -------------------------------
    def open_process(self, activation: Any, ticket: Any) -> Any:
        activation.process.ticket = ticket
        services.start_work(ticket=ticket)
        return activation.process

    def auto_assign(self, activation: Any) -> None:
        services.auto_assign_ticket(ticket=activation.process.ticket)

    def current_assignee(self, activation: Any) -> Any:
        return activation.process.ticket.assignee

    def pending_auto_close_at(self, activation: Any) -> datetime:
        return sla.pending_auto_close_at(activation.process.ticket)

    def resolved_auto_close_at(self, activation: Any) -> datetime:
        return sla.resolved_auto_close_at(activation.process.ticket)

    def reopen_window_end(self, activation: Any) -> datetime:
        return sla.reopen_window_end(activation.process.ticket)

    def auto_close(self, activation: Any) -> None:
        services.auto_close_ticket(ticket=activation.process.ticket)

    def archive_ticket(self, activation: Any) -> None:
        services.archive_ticket(ticket=activation.process.ticket)
