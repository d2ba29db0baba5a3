"""Staff sign-in with a second factor (issue 8, item 8; docs/security.md, "Second factor").

Administrators and supervisors must sign in with an authenticator app (TOTP) as well as the
password, agents may; recovery codes work once and are stored hashed; a wrong code is a
failed login (counted toward the lockout and written to the audit trail) on every path: the
login page's second step, the Django admin's login and the API token login. The rule is off
for the rest of the suite (tests/settings.py); these tests turn it on.
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import pytest
from axes.models import AccessFailureLog, AccessLog
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from web import two_factor
from web.models import TwoFactorEvent

pytestmark = pytest.mark.django_db

TOKEN = "/api/auth/token/"
ADDRESS = "198.51.100.7"


@pytest.fixture(autouse=True)
def _enforced(settings: Any) -> None:
    settings.KEFU_2FA_ENFORCED = True
    settings.KEFU_2FA_REQUIRED_ROLES = ["administrator", "supervisor"]
    settings.KEFU_TRUSTED_PROXIES = 0
    settings.KEFU_LOGIN_ACCOUNT_FAILURES = 5
    settings.KEFU_LOGIN_ADDRESS_FAILURES = 20
    settings.KEFU_LOGIN_FAILURE_WINDOW = 900
    settings.KEFU_LOGIN_LOCKOUT_SECONDS = 60
    settings.KEFU_LOGIN_TOTAL_FAILURES = "1000/hour"


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the device's app shows ``steps_ahead`` 30-second steps from now (a code is
    used once: a second login in the same step takes the next step's, within the drift the
    device allows)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def enrolled(user: Any) -> TOTPDevice:
    device: TOTPDevice = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return device


def page_login(client: Client, username: str, password: str = "pw") -> Any:
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ADDRESS)


def secret_on_page(html: str) -> str:
    match = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', html)
    assert match, "the enrolment page shows the secret"
    return match.group(1).replace(" ", "")


def code_from_secret(secret: str, steps_ahead: int = 0) -> str:
    totp = TOTP(base64.b32decode(secret))
    totp.time = time.time() + steps_ahead * 30
    return f"{totp.token():06d}"


# --- the login page ----------------------------------------------------------------------
def test_a_supervisor_without_an_authenticator_enrols_before_any_page(desk: Any) -> None:
    client = Client()

    after_password = page_login(client, "supervisor")

    assert after_password.status_code == 302
    assert after_password["Location"] == "/login/enrol/"
    # Not logged in yet: no page, no API.
    assert client.get("/board/")["Location"].startswith("/login/")
    assert client.get("/api/tickets/").status_code in {401, 403}

    page = client.get("/login/enrol/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html
    # nothing fetched from elsewhere (a random token may contain "cdn": look at addresses)
    assert re.findall(r"""(?:src|href)=["'](?:https?:)?//""", html) == []
    secret = secret_on_page(html)

    wrong = client.post("/login/enrol/", {"code": "000000" if secret else ""})
    assert wrong.status_code in {200, 400}
    assert not TOTPDevice.objects.filter(user=desk.supervisor, confirmed=True).exists()

    done = client.post("/login/enrol/", {"code": code_from_secret(secret)})

    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/board/").status_code == 200
    assert TOTPDevice.objects.filter(user=desk.supervisor, confirmed=True).count() == 1
    stored = set(
        StaticToken.objects.filter(device__user=desk.supervisor).values_list("token", flat=True)
    )
    assert len(stored) == 10
    assert not stored & {code.replace("-", "") for code in codes}  # hashed, never in clear
    assert TwoFactorEvent.objects.filter(
        user=desk.supervisor, kind=TwoFactorEvent.Kind.ENROLLED
    ).exists()
    assert AccessLog.objects.filter(username="supervisor").count() == 1


def test_an_enrolled_user_gives_a_code_on_a_second_step(desk: Any) -> None:
    device = enrolled(desk.admin)
    client = Client()

    after_password = page_login(client, "admin")

    assert after_password["Location"] == "/login/code/"
    assert client.get("/queue/")["Location"].startswith("/login/")
    assert AccessLog.objects.filter(username="admin").count() == 0

    done = client.post("/login/code/", {"code": code_for(device)}, REMOTE_ADDR=ADDRESS)

    assert done.status_code == 302
    assert client.get("/queue/").status_code == 200
    assert AccessLog.objects.filter(username="admin").count() == 1
    assert TwoFactorEvent.objects.filter(user=desk.admin, kind="verified").count() == 1


def test_a_code_is_not_accepted_twice(desk: Any) -> None:
    device = enrolled(desk.admin)
    code = code_for(device)
    first = Client()
    page_login(first, "admin")
    assert first.post("/login/code/", {"code": code}).status_code == 302

    second = Client()
    page_login(second, "admin")
    replay = second.post("/login/code/", {"code": code}, REMOTE_ADDR=ADDRESS)

    assert replay.status_code == 400
    assert second.get("/queue/")["Location"].startswith("/login/")


def test_a_recovery_code_signs_in_once(desk: Any) -> None:
    enrolled(desk.supervisor)
    codes = two_factor.new_recovery_codes(desk.supervisor)
    client = Client()
    page_login(client, "supervisor")

    assert client.post("/login/code/", {"code": codes[3].upper()}).status_code == 302
    assert client.get("/board/").status_code == 200
    assert two_factor.recovery_codes_left(desk.supervisor) == 9
    assert TwoFactorEvent.objects.filter(kind="recovery_used").count() == 1

    again = Client()
    page_login(again, "supervisor")
    refused = again.post("/login/code/", {"code": codes[3]}, REMOTE_ADDR=ADDRESS)

    assert refused.status_code == 400
    assert again.get("/board/")["Location"].startswith("/login/")
    assert AccessFailureLog.objects.filter(username="supervisor").count() == 1


def test_wrong_codes_count_toward_the_lockout(desk: Any) -> None:
    device = enrolled(desk.agent1)
    client = Client()
    page_login(client, "agent1")

    answers = [
        client.post("/login/code/", {"code": "000000"}, REMOTE_ADDR=ADDRESS).status_code
        for _ in range(5)
    ]

    assert answers == [400, 400, 400, 400, 429]
    locked = client.post("/login/code/", {"code": code_for(device)}, REMOTE_ADDR=ADDRESS)
    assert locked.status_code == 429  # the right code is refused during the lockout
    assert int(locked["Retry-After"]) == 60
    assert "Too many failed logins" in locked.content.decode()
    assert client.get("/queue/")["Location"].startswith("/login/")
    # The password is locked too: the account's lockout is one.
    assert page_login(Client(), "agent1").status_code == 429
    failures = AccessFailureLog.objects.filter(username="agent1", path_info="/login/code/")
    assert failures.count() == 5
    assert failures.filter(locked_out=True).count() == 1
    assert TwoFactorEvent.objects.filter(user=desk.agent1, kind="refused").count() == 5


# --- agents may, required roles must ------------------------------------------------------
def test_an_agent_without_an_authenticator_signs_in_with_the_password(desk: Any) -> None:
    client = Client()

    assert page_login(client, "agent1")["Location"] == "/"
    assert client.get("/queue/").status_code == 200
    manage = client.get("/account/two-step/")
    assert manage.status_code == 200
    assert 'href="/login/enrol/"' in manage.content.decode()


def test_an_agent_enrols_and_removes_their_authenticator(desk: Any) -> None:
    client = Client()
    page_login(client, "agent1")
    secret = secret_on_page(client.get("/login/enrol/").content.decode())
    done = client.post("/login/enrol/", {"code": code_from_secret(secret)})
    assert done.status_code == 200
    assert client.get("/queue/").status_code == 200  # this session passed the second factor

    client.post("/logout/")
    assert page_login(client, "agent1")["Location"] == "/login/code/"
    assert client.post("/login/code/", {"code": code_from_secret(secret, 1)}).status_code == 302

    removed = client.post("/account/two-step/", {"code": code_from_secret(secret, 2)})

    assert removed.status_code == 302
    assert not TOTPDevice.objects.filter(user=desk.agent1).exists()
    assert set(TwoFactorEvent.objects.values_list("kind", flat=True)) >= {"enrolled", "removed"}
    client.post("/logout/")
    assert page_login(client, "agent1")["Location"] == "/"


def test_a_session_logged_in_without_a_code_reaches_only_the_second_step(desk: Any) -> None:
    client = Client()
    client.force_login(desk.supervisor)

    assert client.get("/board/")["Location"] == "/login/enrol/"
    api = client.get("/api/tickets/")
    assert api.status_code == 403
    assert set(api.json()) == {"detail", "errors"}
    assert client.get("/login/enrol/").status_code == 200

    enrolled(desk.admin)
    admin = Client()
    admin.force_login(desk.admin)
    assert admin.get("/queue/")["Location"] == "/login/code/"


def test_roles_required_follow_the_setting(desk: Any, settings: Any) -> None:
    settings.KEFU_2FA_REQUIRED_ROLES = []
    client = Client()

    assert page_login(client, "supervisor")["Location"] == "/"


# --- the Django admin ------------------------------------------------------------------
def staff(user: Any) -> Any:
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


def test_the_admin_login_asks_for_the_code(desk: Any) -> None:
    device = enrolled(staff(desk.admin))
    client = Client()

    without = client.post(
        "/admin/login/?next=/admin/", {"username": "admin", "password": "pw"}, REMOTE_ADDR=ADDRESS
    )
    assert without.status_code == 200
    assert client.get("/admin/").status_code == 302

    wrong = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": "pw", "otp_token": "000000"},
        REMOTE_ADDR=ADDRESS,
    )
    assert wrong.status_code == 200
    assert AccessFailureLog.objects.filter(username="admin", path_info="/admin/login/").exists()

    right = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": "pw", "otp_token": code_for(device)},
        REMOTE_ADDR=ADDRESS,
    )
    assert right.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/web/twofactorevent/").status_code == 200


def test_the_admin_refuses_a_required_role_without_an_authenticator(desk: Any) -> None:
    staff(desk.admin)
    client = Client()

    page = client.post(
        "/admin/login/?next=/admin/", {"username": "admin", "password": "pw"}, REMOTE_ADDR=ADDRESS
    )

    assert page.status_code == 200
    assert "set up an authenticator app" in page.content.decode()
    assert client.get("/admin/").status_code == 302


# --- the API token login -------------------------------------------------------------------
def token_login(body: dict[str, str]) -> Any:
    return APIClient().post(TOKEN, body, format="json", REMOTE_ADDR=ADDRESS)


def test_the_token_login_asks_an_enrolled_user_for_the_code(desk: Any) -> None:
    device = enrolled(desk.supervisor)

    missing = token_login({"username": "supervisor", "password": "pw"})
    assert missing.status_code == 400
    assert set(missing.json()) == {"detail", "errors"}
    assert list(missing.json()["errors"]) == ["otp"]

    wrong = token_login({"username": "supervisor", "password": "pw", "otp": "000000"})
    assert wrong.status_code == 400
    assert "otp" in wrong.json()["errors"]
    assert AccessFailureLog.objects.filter(username="supervisor", path_info=TOKEN).count() == 1

    right = token_login({"username": "supervisor", "password": "pw", "otp": code_for(device)})
    assert right.status_code == 200
    assert "token" in right.json()


def test_the_token_login_takes_a_recovery_code(desk: Any) -> None:
    enrolled(desk.agent1)
    codes = two_factor.new_recovery_codes(desk.agent1)

    assert token_login({"username": "agent1", "password": "pw", "otp": codes[0]}).status_code == 200
    assert token_login({"username": "agent1", "password": "pw", "otp": codes[0]}).status_code == 400


def test_the_token_login_refuses_a_required_role_without_an_authenticator(desk: Any) -> None:
    refused = token_login({"username": "admin", "password": "pw"})

    assert refused.status_code == 403
    assert set(refused.json()) == {"detail", "errors"}
    assert "web page" in refused.json()["detail"]
    # An agent without one signs in with the password alone.
    assert token_login({"username": "agent1", "password": "pw"}).status_code == 200


def test_wrong_token_login_codes_lock_the_account(desk: Any) -> None:
    device = enrolled(desk.agent2)

    answers = [
        token_login({"username": "agent2", "password": "pw", "otp": "000000"}).status_code
        for _ in range(5)
    ]

    assert answers == [400, 400, 400, 400, 429]
    locked = token_login({"username": "agent2", "password": "pw", "otp": code_for(device)})
    assert locked.status_code == 429
