"""The process of a service work order, as a supervisor would draw it.

    opened -> apply SLA and route -> auto-assign -> work the ticket
    work the ticket --(SLA checkpoint: warning, breach, escalation level)--> escalate -> work
    work the ticket -> waiting on customer (SLA paused; auto-close timer) -> auto-assign
    work the ticket -> resolved (auto-close timer; reopen) -> closed (reopen window) -> archived

Every node calls a service in ``tickets.services``; the ticket's status is
owned by those services and the switches only read it.
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
        flow.StartHandle(this.open_process).Annotation(title=_("Ticket opened")).Next(this.triage)
    )
    triage = (
        flow.Function(this.apply_sla_and_route)
        .Annotation(title=_("Apply SLA policy and route to a team"))
        .Next(this.assign)
    )
    assign = flow.Function(this.auto_assign).Annotation(title=_("Auto-assign")).Next(this.work)
    work = (
        flow.View(NO_FORM)
        .Annotation(title=_("Work the ticket"))
        .Assign(this.current_assignee)
        .OnTimeout(this.next_sla_checkpoint, this.escalate, title=_("SLA checkpoint"))
        .Next(this.after_work)
    )
    escalate = (
        flow.Function(this.run_sla_checkpoint)
        .Annotation(title=_("Warn, mark breach, escalate"))
        .Next(this.work)
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
        return activation.process

    def apply_sla_and_route(self, activation: Any) -> None:
        services.apply_sla_and_route(ticket=activation.process.ticket)

    def auto_assign(self, activation: Any) -> None:
        services.auto_assign_ticket(ticket=activation.process.ticket)

    def current_assignee(self, activation: Any) -> Any:
        return activation.process.ticket.assignee

    def next_sla_checkpoint(self, activation: Any) -> datetime:
        return sla.next_checkpoint_at(activation.process.ticket)

    def run_sla_checkpoint(self, activation: Any) -> None:
        services.run_sla_checkpoint(ticket=activation.process.ticket)

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
