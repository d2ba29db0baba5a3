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

# Run against the demo's SQLite database: the customers 360 screens and the writes whose SQL
# differs by database (duplicates, imports, freezing a segment, privacy numbers, merges).
EMBEDDED_CUSTOMERS = """
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from customers.models import Contact, Customer, Segment
from customers.selectors import duplicates
from customers.services import duplicates as dismissing, imports, merge, privacy, segments

admin = get_user_model().objects.get(username="admin")
client = Client()
client.force_login(admin)
session = client.session
session["otp_device_id"] = TOTPDevice.objects.get(user=admin).persistent_id
session.save()
customer = Customer.objects.filter(merged_into=None).first()
contact = Contact.objects.filter(merged_into=None, erased_at=None).first()
pages = ["/customers/", f"/customers/{customer.pk}/", f"/contacts/{contact.pk}/",
         "/segments/", "/imports/", "/exports/", "/privacy/", "/customers/duplicates/",
         "/customers/merges/", "/suppressions/", f"/api/customers/{customer.pk}/timeline/",
         "/api/contacts/duplicates/", "/api/customers/duplicates/",
         "/customers/duplicates/?tab=dismissed", "/api/duplicate-dismissals/"]
for page in pages:
    print("page", page, client.get(page, HTTP_HOST="127.0.0.1").status_code)
print("frozen", segments.freeze_segment(admin, Segment.objects.first()).size > 0)
print("privacy", privacy.record_request(admin, contact, "access").number.startswith("P-"))
upload = SimpleUploadedFile("x.csv", b"Email,Name\\nnew1@example.com,New One\\nbad,Bad\\n")
job = imports.upload_import(admin, "contacts", upload)
job = imports.set_mapping(admin, job, {"Email": "email", "Name": "name"}, ["email"])
job = imports.request_plan(admin, job)
job.refresh_from_db()  # the dry run ran after its transaction committed
job = imports.request_commit(admin, job)
job.refresh_from_db()
print("import", job.status, job.counts["create"], job.counts["error"])
pair = duplicates.contact_pairs(admin).pairs[0]
kept, other = Contact.objects.get(pk=pair.a), Contact.objects.get(pk=pair.b)
log = merge.merge_contacts(admin, kept, other, {})
merge.undo_merge(admin, log)
print("merge undone", Contact.objects.get(pk=pair.b).merged_into_id is None)
dismissal, created = dismissing.dismiss_pair(admin, "contact", pair.a, pair.b, "not the same")
left = {(p.a, p.b) for p in duplicates.contact_pairs(admin, limit=100).pairs}
dismissing.restore_pair(admin, dismissal)
back = {(p.a, p.b) for p in duplicates.contact_pairs(admin, limit=100).pairs}
print("dismissed", created and (pair.a, pair.b) not in left and (pair.a, pair.b) in back)
"""


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

        # Customers 360 on the embedded database: every screen answers, every write works.
        checked = subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "python"),
                "manage.py",
                "shell",
                "-c",
                EMBEDDED_CUSTOMERS,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        report = checked.stdout.splitlines()
        assert checked.returncode == 0, checked.stderr[-3000:]
        pages = [line for line in report if line.startswith("page ")]
        assert len(pages) == 15 and all(line.endswith(" 200") for line in pages), report
        assert "frozen True" in report and "privacy True" in report, report
        assert "import committed 1 1" in report, report
        assert "merge undone True" in report, report
        assert "dismissed True" in report, report
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
