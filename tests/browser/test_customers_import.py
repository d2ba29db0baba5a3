"""The import wizard in Chromium: upload a CSV, adjust a mapping, run the dry run and watch
its live progress reach 100%, read the plan row by row (an error row among them), commit,
and find the records (a real Celery worker runs the jobs)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from customers.models import Contact
from tests.browser.conftest import expect, login
from tests.e2e.conftest import WorkerProcess, worker_env
from tests.factories import AdministratorFactory, CustomerFactory

CSV = (
    "E-mail address,Nickname,Language\n"
    "li.lei@example.cn,李雷,zh-hans\n"
    "not-an-address,Broken,en\n"
    "han.meimei@example.cn,韩梅梅,中文\n"
)


@pytest.fixture
def worker(server: str, live_layer: str) -> Iterator[WorkerProcess]:
    process = WorkerProcess(
        worker_env(broker=live_layer), Path(tempfile.mkdtemp(prefix="kefu-import-ui-"))
    )
    try:
        yield process
    finally:
        process.stop()


def test_the_wizard_maps_plans_with_live_progress_and_commits(
    browser: Any, server: str, worker: WorkerProcess, tmp_path: Path
) -> None:
    AdministratorFactory(username="importer")
    CustomerFactory(name="ACME")
    upload = tmp_path / "people.csv"
    upload.write_text(CSV, encoding="utf-8")
    page = login(browser, server, "importer", "pw")
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto("/imports/")
    page.click("#new-import")
    page.wait_for_url("**/imports/new/")
    page.select_option("#upload-target", "contacts")
    page.set_input_files("#upload-file", str(upload))
    page.click("#upload-submit")
    page.wait_for_url("**/imports/*/")

    # The suggestion is prefilled; "Nickname" is not recognised: map it by hand.
    expect(page.locator("select[data-column='E-mail address']")).to_have_value("email")
    expect(page.locator("select[data-column='Nickname']")).to_have_value("")
    page.select_option("select[data-column='Nickname']", "name")
    page.click("#save-mapping")
    expect(page.locator("#mapping-saved")).to_have_text("Mapping saved.")

    page.click("#run-plan")
    expect(page.locator("#progress-percent")).to_have_text("100", timeout=60_000)
    expect(page.locator("#progress-text")).to_have_text("3 of 3 rows")
    expect(page.locator("#progress-bar")).to_have_attribute("value", "100")
    expect(page.locator("#plan-rows tbody tr")).to_have_count(3)
    error = page.locator("#plan-rows tr.row-error")
    expect(error).to_have_count(1)
    expect(error).to_have_attribute("data-line", "3")
    expect(error).to_contain_text("not a valid email address")
    page.select_option("#row-filter", "create")
    expect(page.locator("#plan-rows tbody tr")).to_have_count(2)
    expect(page.locator("#counts")).to_contain_text("Error: 1")

    page.click("#commit")
    expect(page.locator("#job-status")).to_have_text("Imported", timeout=60_000)
    expect(page.locator("#revert")).to_be_enabled()
    people = dict(Contact.objects.values_list("email", "name"))
    assert people == {"li.lei@example.cn": "李雷", "han.meimei@example.cn": "韩梅梅"}
    assert Contact.objects.get(email="han.meimei@example.cn").language == "zh-hans"

    page.goto("/imports/")
    expect(page.locator("#import-history")).to_contain_text("people.csv")
    expect(page.locator("#import-history")).to_contain_text("Imported")
