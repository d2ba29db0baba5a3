"""The process of a complaint, as a complaints manager would draw it.

    received (number, severity, SLA clock on the regulator's profile, assigned to a
    handler who is not the person complained about)
      -> handle: acknowledge, contact, investigate, propose a resolution
      -> the proposal is within the handler's authority: the final answer goes out
         otherwise -> approval by a supervisor or a manager (its own due time);
                      rejected -> back to the handler with the reason
      -> answered: the customer may accept or dispute through a signed link
         disputed -> handle again, one escalation level up
         accepted or silent -> quality review (regulatory complaints) -> closed
      -> closed (reopen window) -> archived

Every node calls a service in ``complaints.services``; the complaint's status is owned by
those services and the switches only read it. The SLA clock (acknowledge, first contact,
final answer) runs beside the process on the platform's ladder (docs/complaints.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.flow.views import UpdateProcessView

from complaints import services
from complaints.choices import ComplaintStatus

from .models import ComplaintProcess

NO_FORM = UpdateProcessView.as_view(fields=[])


def _status_is(*statuses: str) -> Any:
    return lambda activation: activation.process.complaint.status in statuses


class ComplaintFlow(flow.Flow):
    process_class = ComplaintProcess
    lock_impl = lock.select_for_update_lock
    process_title = _("Complaint")
    process_description = _(
        "A complaint handled to a final answer within the regulator's deadlines."
    )

    start = (
        flow.StartHandle(this.open_process)
        .Annotation(title=_("Complaint received: severity, SLA clock, handler"))
        .Next(this.handle)
    )
    assign = (
        flow.Function(this.auto_assign).Annotation(title=_("Assign a handler")).Next(this.handle)
    )
    handle = (
        flow.View(NO_FORM)
        .Annotation(title=_("Acknowledge, investigate, propose"))
        .Assign(this.current_handler)
        .Next(this.after_handle)
    )
    after_handle = (
        flow.Switch()
        .Annotation(title=_("Within the handler's authority?"))
        .Case(this.approval, _status_is(ComplaintStatus.AWAITING_APPROVAL))
        .Case(this.answered, _status_is(ComplaintStatus.AWAITING_CUSTOMER))
        .Default(this.assign)
    )
    approval = (
        flow.View(NO_FORM)
        .Annotation(title=_("Approve the resolution (limit of authority)"))
        .Assign(this.current_approver)
        .Next(this.after_approval)
    )
    after_approval = (
        flow.Switch()
        .Annotation(title=_("Approved or rejected"))
        .Case(this.answered, _status_is(ComplaintStatus.AWAITING_CUSTOMER))
        .Default(this.assign)
    )
    answered = (
        flow.Handle()
        .Annotation(title=_("Final answer sent: the customer accepts or disputes"))
        .OnTimeout(this.response_window_end, this.close_by_silence, title=_("No answer"))
        .Next(this.after_answer)
    )
    close_by_silence = (
        flow.Function(this.customer_silent)
        .Annotation(title=_("Accepted by silence"))
        .Next(this.review_or_close)
    )
    after_answer = (
        flow.Switch()
        .Annotation(title=_("Accepted or disputed"))
        .Case(this.assign, _status_is(ComplaintStatus.INVESTIGATING))
        .Default(this.review_or_close)
    )
    review_or_close = (
        flow.Switch()
        .Annotation(title=_("Regulatory: quality review first"))
        .Case(this.review, _status_is(ComplaintStatus.QUALITY_REVIEW))
        .Default(this.close)
    )
    review = (
        flow.View(NO_FORM)
        .Annotation(title=_("Quality review"))
        .Assign(this.current_reviewer)
        .onCreate(this.review_created)
        .Next(this.close)
    )
    close = flow.Function(this.close_complaint).Annotation(title=_("Close")).Next(this.closed)
    closed = (
        flow.Handle()
        .Annotation(title=_("Closed (can be reopened)"))
        .OnTimeout(this.reopen_window_end, this.archive, title=_("Reopen window over"))
        .Next(this.assign)
    )
    archive = flow.Function(this.archive_complaint).Annotation(title=_("Archive")).Next(this.end)
    end = flow.End().Annotation(title=_("Done"))

    # --- node callbacks: each calls one service -------------------------------
    def open_process(self, activation: Any, complaint: Any) -> Any:
        activation.process.complaint = complaint
        return activation.process

    def auto_assign(self, activation: Any) -> None:
        services.auto_assign_complaint(complaint=activation.process.complaint)

    def current_handler(self, activation: Any) -> Any:
        return activation.process.complaint.assignee

    def current_approver(self, activation: Any) -> Any:
        return services.pending_approver(activation.process.complaint)

    def current_reviewer(self, activation: Any) -> Any:
        return services.choose_reviewer(activation.process.complaint)

    def review_created(self, activation: Any) -> None:
        services.review_ready(complaint=activation.process.complaint)

    def response_window_end(self, activation: Any) -> datetime:
        return services.response_window_end(activation.process.complaint)

    def reopen_window_end(self, activation: Any) -> datetime:
        return services.reopen_window_end(activation.process.complaint)

    def customer_silent(self, activation: Any) -> None:
        services.record_silence(complaint=activation.process.complaint)

    def close_complaint(self, activation: Any) -> None:
        services.finish_close(complaint=activation.process.complaint)

    def archive_complaint(self, activation: Any) -> None:
        services.archive_complaint(complaint=activation.process.complaint)
