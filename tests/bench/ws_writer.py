"""The writer process of the ``push`` benchmark: ticket changes through the services.

``python -m tests.bench.ws_writer PLAN_JSON OUT_JSON --rate 20``

PLAN_JSON: ``{"actor": admin id, "actions": [[kind, ticket id, argument], ...]}``,
kind ``urge`` | ``priority`` (argument: the new priority) | ``assign`` (argument: the
new assignee, a member of the ticket's team). Action i starts at ``t0 + i / rate``
(open loop; a late action starts at once and the achieved rate is reported).

Every ``queue.event`` the services hand to the funnel is recorded with its groups,
and stamped with the wall clock by a ``transaction.on_commit`` callback registered
right after the funnel's own push callback: the stamp is taken at commit, just after
the push was handed to this process's publisher thread.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("plan")
    parser.add_argument("out")
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args()

    from . import env

    env.setup_django()
    from django.contrib.auth.models import User
    from django.db import transaction

    import processes.queue
    from notifications import realtime
    from tickets import services

    with open(args.plan) as fh:
        plan = json.load(fh)
    actor = User.objects.get(pk=plan["actor"])
    events: list[list[Any]] = []
    original = processes.queue.send_event_on_commit

    def recording(groups: Any, event: Any) -> None:
        targets = sorted(set(groups))
        original(targets, event)
        if event.get("type") == "queue.event":
            key = [int(event["object"]["object_id"]), int(event["version"])]
            kind = str(event["event"])
            transaction.on_commit(lambda: events.append([*key, time.time(), targets, kind]))

    processes.queue.send_event_on_commit = recording

    errors: list[str] = []
    service_times: list[float] = []
    lateness: list[float] = []
    interval = 1.0 / args.rate
    start = time.monotonic() + 0.5
    for i, (kind, ticket_id, argument) in enumerate(plan["actions"]):
        due = start + i * interval
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        lateness.append(max(0.0, time.monotonic() - due))
        began = time.monotonic()
        try:
            if kind == "urge":
                services.urge_ticket(ticket_id=ticket_id, actor=actor, note=f"bench {i}")
            elif kind == "priority":
                services.change_priority(ticket_id=ticket_id, actor=actor, priority=argument)
            elif kind == "assign":
                services.assign_ticket(ticket_id=ticket_id, actor=actor, assignee_id=argument)
            else:
                raise ValueError(kind)
        except Exception as exc:  # reported; the run goes on
            errors.append(f"{kind} {ticket_id}: {exc!r}"[:200])
        service_times.append(time.monotonic() - began)
    elapsed = time.monotonic() - start
    realtime.wait_for_pending(10.0)
    with open(args.out, "w") as fh:
        json.dump(
            {
                "events": events,
                "elapsed": elapsed,
                "actions": len(plan["actions"]),
                "service_times": service_times,
                "lateness": lateness,
                "errors": errors[:20],
                "error_count": len(errors),
            },
            fh,
        )


if __name__ == "__main__":
    main()
