"""The benchmark harness (``python -m tests.bench``, docs/benchmarks.md).

``NAMES`` is the list of benchmarks, in the order they run and are reported; ``MODULES``
the module of each under ``tests.bench`` (its ``run(quick=...)`` returns the report
section). tests/test_bench_smoke.py runs every name with ``--quick``.
"""

NAMES = (
    "intake",
    "queue",
    "timers",
    "push",
    "sockets",
    "surveys",
    "deploy",
    "backup",
    "ticket_search",
    "inbound",
    "complaint_report",
    "customer_timeline",
    "customer_import",
    "contact_export",
)
MODULES = {
    "intake": "intake",
    "queue": "queue_reads",
    "timers": "timers",
    "push": "push",
    "sockets": "sockets",
    "surveys": "surveys",
    "deploy": "deploy",
    "backup": "backup",
    "ticket_search": "ticket_search",
    "inbound": "inbound",
    "complaint_report": "complaint_report",
    "customer_timeline": "customer_timeline",
    "customer_import": "customer_import",
    "contact_export": "contact_export",
}
