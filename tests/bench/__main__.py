"""``python -m tests.bench [intake|queue|timers|push|sockets|surveys ...] [--quick]``: run
the benchmarks, print the figures and write them to docs/benchmarks.md.

Without names every benchmark runs, in order. ``--quick`` shrinks every sample
for a smoke test of the harness (tests/test_bench_smoke.py runs each benchmark so); its
figures are not meant for the report. Each benchmark ends by printing its summary rows
(``[name] summary: figure: measured (goal …, verdict)``).
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import time
from types import FrameType

from . import MODULES, NAMES, env


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM (a test's timeout, a cancelled CI job) unwinds like Ctrl-C: the ``finally``
    blocks stop the servers and workers the run started, in their own sessions."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=" | ".join(NAMES))
    parser.add_argument("--quick", action="store_true", help="small samples (harness check)")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    names = [n for n in NAMES if n in (args.names or NAMES)]

    env.apply_env()
    from . import report

    started = time.monotonic()
    sections = []
    failed: list[str] = []
    for name in names:
        print(f"=== {name} ===", flush=True)
        try:
            module = importlib.import_module(f"tests.bench.{MODULES[name]}")
            section = module.run(quick=args.quick)
            if args.quick:
                section.title += " [--quick]"
                heading, _, rest = section.body.partition("\n")
                section.body = (
                    f"{heading}\n\n**--quick run: small samples to check the harness; these "
                    f"figures are not the benchmark.**\n{rest}"
                )
            sections.append(section)
            for figure, measured, goal, verdict in section.summary:
                print(f"[{name}] summary: {figure}: {measured} (goal {goal}, {verdict})")
        except Exception as exc:  # report what ran; a broken benchmark is still an error
            import traceback

            traceback.print_exc()
            failed.append(f"{name}: {exc}")
    if sections and not args.no_write:
        path = report.write(sections)
        print(f"wrote {path}")
    print(f"total {time.monotonic() - started:.0f} s")
    if failed:
        print("FAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
