"""An administrator edits a regulator profile's clock in the Django admin: hours and days
in, the SLA policy written through, a bad value refused with the form's message."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import STEP_TIMEOUT_MS, VIEWPORT, expect

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def root(transactional_db: Any) -> Any:
    from django.contrib.auth.models import User

    from tests.factories.complaints import ensure_shipped_configuration

    ensure_shipped_configuration()
    return User.objects.create_superuser("root", "root@example.com", "pw")


def test_an_administrator_edits_a_complaint_clock(browser: Any, server: str, root: Any) -> None:
    from complaints.models import ComplaintPolicy

    policy = ComplaintPolicy.objects.get(
        profile__code="cn-banking-insurance", severity="S2", regulatory=False
    )
    context = browser.new_context(base_url=server, viewport=VIEWPORT, locale="en")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")

    page.goto(f"/admin/complaints/complaintpolicy/{policy.pk}/change/")
    expect(page.locator("#id_final_answer_days")).to_have_value("15")
    expect(page.locator("#id_extension_days")).to_have_value("15, 30")
    page.fill("#id_extension_days", "fifteen")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist")).to_contain_text("numbers")
    policy.refresh_from_db()
    assert policy.extensions == [15 * 86400, 30 * 86400]

    page.fill("#id_extension_days", "10")
    page.fill("#id_final_answer_days", "20")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/complaints/complaintpolicy/")
    expect(page.locator(".messagelist")).to_be_visible()
    policy.refresh_from_db()
    assert policy.sla_policy.targets["final_answer"] == 20 * 86400
    assert policy.extensions == [10 * 86400]
    context.close()
