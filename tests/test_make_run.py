"""``make run`` as a newcomer types it: on another port, with a short, readable start."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import urllib.request
from pathlib import Path

from tests.test_serve import ROOT, _free_port

# Everything `make run` may print before the server's address: the demo's summary, the
# sign-in line, where emails go, the mode and the dispatcher. A few lines, not a thousand.
MAX_START_LINES = 15


def test_make_run_on_another_port_links_emails_there_and_starts_quietly(tmp_path: Path) -> None:
    port = _free_port()
    mail = tmp_path / "mail"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(
        {
            "HOST": f"127.0.0.1:{port}",
            "KEFU_SQLITE_PATH": str(tmp_path / "kefu.sqlite3"),
            "KEFU_MAIL_DIR": str(mail),
            "KEFU_SERVER_LOG_LEVEL": "info",
        }
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("MAKEFLAGS", None)
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # make and the server it execs stop together
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:  # blocks until the server says it is listening
            lines.append(line.rstrip("\n"))
            if "Uvicorn running on" in line:
                break
        else:
            raise AssertionError("make run stopped:\n" + "\n".join(lines[-50:]))
        start = [line for line in lines if not line.startswith("INFO:")]
        shown = "\n".join(lines)
        assert len(start) <= MAX_START_LINES, shown
        assert "Demo data loaded" in shown and "agent1/agent1" in shown, shown
        assert f"Serving http://127.0.0.1:{port}/" in shown, shown
        assert "Content-Type:" not in shown and "Applying " not in shown, shown

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=10) as response:
            assert response.status == 200

        # The demo's survey emails were written to the mail folder, their links on this port.
        emails = [path.read_text() for path in mail.iterdir()]
        assert emails, "the demo sends survey invitations"
        links = re.findall(r"http://[\w.:-]+/s/[\w-]+/", "\n".join(emails))
        assert links
        assert {link.split("/s/")[0] for link in links} == {f"http://127.0.0.1:{port}"}
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
