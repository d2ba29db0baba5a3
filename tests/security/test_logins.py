"""Logins and passwords (issue 8, items 2 and 7; docs/security.md, "Logins and passwords").

Failed logins are counted per client address (as ``KEFU_TRUSTED_PROXIES`` defines it), per
account and in total, on every login path: the token login, the login page and the Django
admin's login. A lockout refuses even the right password, and each further lockout of the
same account or address lasts twice as long. Lockouts are ended in these tests by removing
the stored lock, as its expiry would, never by waiting.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

TOKEN = "/api/auth/token/"
ATTACKER = "203.0.113.66"
PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    """The documented defaults, spelled out: a test reads the numbers it depends on."""
    settings.KEFU_TRUSTED_PROXIES = 0
    settings.KEFU_LOGIN_ACCOUNT_FAILURES = 5
    settings.KEFU_LOGIN_ADDRESS_FAILURES = 10
    settings.KEFU_LOGIN_FAILURE_WINDOW = 900
    settings.KEFU_LOGIN_LOCKOUT_SECONDS = 60
    settings.KEFU_LOGIN_LOCKOUT_MAX_SECONDS = 3600
    settings.KEFU_LOGIN_TOTAL_FAILURES = "1000/hour"


@pytest.fixture(autouse=True)
def _english_afterwards() -> Any:
    yield
    translation.deactivate()


def token_login(username: str, password: str, address: str = ATTACKER, **extra: Any) -> Any:
    return APIClient().post(
        TOKEN,
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
        **extra,
    )


def page_login(client: Client, username: str, password: str, address: str = ATTACKER) -> Any:
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def expire_lock(scope: str, value: str) -> None:
    """The lock of an account or address runs out: its stored entry is gone."""
    from project import logins

    assert cache.delete(logins.lock_key(scope, value))


# --- the client's address ------------------------------------------------------------
def test_a_new_forwarded_for_per_attempt_does_not_escape_the_address_limit(
    desk: Any, settings: Any
) -> None:
    """No proxy is trusted: X-Forwarded-For is the client's own claim and is ignored."""
    codes = [
        token_login(f"guess{n}", "password1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(10)
    ]

    refused = token_login("agent1", "pw", HTTP_X_FORWARDED_FOR="198.51.100.200")

    assert codes == [400] * 9 + [429]
    assert refused.status_code == 429
    assert "token" not in refused.json()


def test_with_one_trusted_proxy_the_address_it_appended_is_counted(
    desk: Any, settings: Any
) -> None:
    settings.KEFU_TRUSTED_PROXIES = 1
    for n in range(10):
        # whatever the client put first, the proxy appended the address it saw last
        token_login(
            f"guess{n}", "x", address=PROXY, HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 198.51.100.7"
        )

    same_client = token_login("agent1", "pw", address=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    other_client = token_login(
        "agent1", "pw", address=PROXY, HTTP_X_FORWARDED_FOR="10.9.9.1, 198.51.100.8"
    )

    assert same_client.status_code == 429
    assert other_client.status_code == 200
    assert other_client.json()["token"]


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, None, "192.0.2.1"),
        (0, "198.51.100.1", "192.0.2.1"),
        (1, None, "192.0.2.1"),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "10.0.0.1, 198.51.100.1", "198.51.100.1"),
        (2, "10.0.0.1, 198.51.100.1, 198.51.100.2", "198.51.100.1"),
        (2, "10.0.0.1,198.51.100.1 ,198.51.100.2", "198.51.100.1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address_is_the_nth_forwarded_address_from_the_right(
    settings: Any, proxies: int, forwarded: str | None, expected: str
) -> None:
    from django.test import RequestFactory
    from rest_framework.request import Request
    from rest_framework.throttling import BaseThrottle

    from project.throttling import client_address

    settings.KEFU_TRUSTED_PROXIES = proxies
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1")
    if forwarded:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded

    assert client_address(request) == expected
    # DRF's own throttles name the same client: they read NUM_PROXIES
    assert BaseThrottle().get_ident(Request(request)) == expected


def test_a_forwarded_value_that_is_no_address_falls_back_to_the_peer(settings: Any) -> None:
    from django.test import RequestFactory

    from project.throttling import client_address

    settings.KEFU_TRUSTED_PROXIES = 1
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="nobody")

    assert client_address(request) == "192.0.2.1"


def test_drf_counts_behind_as_many_proxies_as_kefu() -> None:
    from django.conf import settings

    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.KEFU_TRUSTED_PROXIES


@pytest.mark.parametrize(("proxies", "wrapped"), [(0, False), (1, True)])
def test_the_server_believes_forwarded_headers_only_behind_trusted_proxies(
    settings: Any, proxies: int, wrapped: bool
) -> None:
    """uvicorn rewrites the client's address from X-Forwarded-For for peers on this machine
    unless told not to; ``manage.py serve`` tells it when no proxy is trusted."""
    import uvicorn
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from flows.management.commands.serve import proxy_options

    async def app(scope: Any, receive: Any, send: Any) -> None:
        """An ASGI app: only how uvicorn wraps it matters here."""

    settings.KEFU_TRUSTED_PROXIES = proxies
    config = uvicorn.Config(app, **proxy_options())
    config.load()

    assert isinstance(config.loaded_app, ProxyHeadersMiddleware) is wrapped


def test_survey_pages_count_the_same_client_address(settings: Any) -> None:
    settings.KEFU_SURVEY_THROTTLE = "2/hour"
    settings.KEFU_TRUSTED_PROXIES = 1
    unknown = "/s/" + "B" * 43 + "/"
    first = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1")
    codes = [first.get(unknown).status_code for _ in range(3)]

    second = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.2").get(unknown)

    assert codes == [404, 404, 429]
    assert second.status_code == 404


# --- every login path -----------------------------------------------------------------
def test_admin_login_is_throttled(db: Any) -> None:
    User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    codes = [
        client.post(
            "/admin/login/?next=/admin/",
            {"username": "root", "password": "guess", "next": "/admin/"},
            REMOTE_ADDR=ATTACKER,
        ).status_code
        for _ in range(5)
    ]

    refused = client.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": "pw", "next": "/admin/"},
        REMOTE_ADDR=ATTACKER,
    )

    assert codes == [200] * 4 + [429]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 60
    assert "Too many failed logins" in refused.content.decode()
    assert '<form action="/admin/login/' in refused.content.decode()  # the page, not a stub
    assert client.get("/admin/").status_code == 302  # not logged in


def test_login_page_lockout_says_so_in_both_languages(desk: Any) -> None:
    client = Client()
    for _ in range(5):
        page_login(client, "agent1", "guess")

    english = page_login(client, "agent1", "pw")
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").post(
        "/login/", {"username": "agent1", "password": "pw"}, REMOTE_ADDR="198.51.100.9"
    )

    assert english.status_code == 429
    assert int(english["Retry-After"]) == 60
    assert "Too many failed logins" in english.content.decode()
    assert "Please enter a correct" not in english.content.decode()
    assert chinese.status_code == 429
    assert "登录失败次数过多" in chinese.content.decode()
    assert client.get("/queue/").status_code == 302


def test_token_lockout_answers_429_in_the_error_shape_with_retry_after(desk: Any) -> None:
    for _ in range(5):
        token_login("agent1", "guess")

    refused = token_login("agent1", "pw")

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 60
    body = refused.json()
    assert set(body) == {"detail", "errors"}
    assert "Too many failed logins" in body["detail"]
    assert "token" not in body


# --- who is counted -----------------------------------------------------------------------
def test_spraying_one_password_across_30_user_names_is_stopped(desk: Any) -> None:
    client = Client()
    codes = [page_login(client, f"user{n}", "Summer2026!").status_code for n in range(30)]

    real = page_login(client, "agent1", "pw")

    assert codes == [200] * 9 + [429] * 21
    assert real.status_code == 429


def test_one_account_attacked_from_many_addresses_is_locked(desk: Any) -> None:
    codes = [
        token_login(name, "guess", address=f"198.51.100.{n}").status_code
        for n, name in enumerate(["agent1", "AGENT1", "Agent1", " agent1", "agent1"])
    ]

    owner = token_login("agent1", "pw", address="192.0.2.10")
    neighbour = token_login("agent2", "pw", address="192.0.2.10")

    assert codes == [400] * 4 + [429]
    assert owner.status_code == 429
    assert neighbour.status_code == 200


def test_a_success_does_not_reset_the_address_count_of_a_spray(desk: Any) -> None:
    client = Client()
    for n in range(9):
        page_login(client, f"user{n}", "Summer2026!")
    # the attacker's own account logs in between guesses
    assert page_login(Client(), "agent2", "pw").status_code == 302

    tenth = page_login(client, "user9", "Summer2026!")

    assert tenth.status_code == 429


def test_a_success_forgets_the_owners_own_typos(desk: Any) -> None:
    client = Client()
    for _ in range(4):
        page_login(client, "agent1", "typo", address="192.0.2.20")
    assert page_login(Client(), "agent1", "pw", address="192.0.2.20").status_code == 302

    for _ in range(4):
        assert page_login(client, "agent1", "typo", address="192.0.2.20").status_code == 200


def test_total_failures_over_the_ceiling_slow_every_login(desk: Any, settings: Any) -> None:
    settings.KEFU_LOGIN_TOTAL_FAILURES = "8/hour"
    for n in range(8):
        token_login(f"user{n}", "guess", address=f"198.51.100.{n}")

    anyone = token_login("agent1", "pw", address="192.0.2.30")

    assert anyone.status_code == 429
    assert int(anyone["Retry-After"]) >= 1


def test_the_right_password_during_a_lockout_is_refused_on_every_path(desk: Any) -> None:
    User.objects.create_superuser("root", "root@example.com", "pw")
    for _ in range(5):
        token_login("root", "guess")

    api = token_login("root", "pw", address="192.0.2.40")
    page = page_login(Client(), "root", "pw", address="192.0.2.41")
    admin_client = Client()
    admin = admin_client.post(
        "/admin/login/", {"username": "root", "password": "pw"}, REMOTE_ADDR="192.0.2.42"
    )

    assert (api.status_code, page.status_code, admin.status_code) == (429, 429, 429)
    assert admin_client.get("/admin/").status_code == 302


# --- lockouts grow ------------------------------------------------------------------------
def test_lockout_doubles_with_each_further_lockout_up_to_the_cap(settings: Any) -> None:
    from project.logins import lockout_seconds

    assert [lockout_seconds(n) for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    settings.KEFU_LOGIN_LOCKOUT_SECONDS = 30
    settings.KEFU_LOGIN_LOCKOUT_MAX_SECONDS = 100
    assert [lockout_seconds(n) for n in range(1, 5)] == [30, 60, 100, 100]


def test_a_second_lockout_of_an_account_lasts_twice_as_long(desk: Any) -> None:
    waits = []
    for round_ in range(3):
        for n in range(5):
            token_login("agent1", "guess", address=f"198.51.100.{round_ * 10 + n}")
        waits.append(int(token_login("agent1", "pw", address="192.0.2.50")["Retry-After"]))
        expire_lock("account", "agent1")

    assert waits == [60, 120, 240]
    # the lock ran out: the owner logs in again
    assert token_login("agent1", "pw", address="192.0.2.50").status_code == 200


def test_a_second_lockout_of_an_address_lasts_twice_as_long(desk: Any) -> None:
    waits = []
    for round_ in range(2):
        for n in range(10):
            token_login(f"user{round_}{n}", "guess")
        waits.append(int(token_login("agent1", "pw")["Retry-After"]))
        expire_lock("address", ATTACKER)

    assert waits == [60, 120]


# --- the audit trail ------------------------------------------------------------------------
def test_logins_and_failures_are_in_the_admins_audit_log(desk: Any) -> None:
    from axes.models import AccessFailureLog, AccessLog

    User.objects.create_superuser("root", "root@example.com", "pw")
    token_login("agent1", "guess", address="198.51.100.77")
    page_login(Client(), "agent2", "pw", address="198.51.100.78")
    token_login("agent2", "pw", address="198.51.100.79")

    failure = AccessFailureLog.objects.get()
    assert (failure.username, failure.ip_address, failure.path_info) == (
        "agent1",
        "198.51.100.77",
        TOKEN,
    )
    assert sorted(AccessLog.objects.values_list("username", "ip_address", "path_info")) == [
        ("agent2", "198.51.100.78", "/login/"),
        ("agent2", "198.51.100.79", TOKEN),
    ]
    admin = Client()
    admin.force_login(User.objects.get(username="root"))
    failures_page = admin.get("/admin/axes/accessfailurelog/").content.decode()
    logins_page = admin.get("/admin/axes/accesslog/").content.decode()
    assert "198.51.100.77" in failures_page and "agent1" in failures_page
    assert "198.51.100.79" in logins_page


# --- passwords --------------------------------------------------------------------------
@pytest.mark.parametrize("password", ["12345678", "password", "1234567890", "qwertyuiop", "short"])
def test_weak_passwords_are_refused(password: str) -> None:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_password_like_the_user_name_is_refused() -> None:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("agent1-kefu", User(username="agent1-kefu"))
    validate_password("violet-harbour-27")  # a good one passes


def test_the_admins_user_form_refuses_a_weak_password(db: Any) -> None:
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    admin = Client()
    admin.force_login(root)

    weak = admin.post(
        "/admin/auth/user/add/",
        {
            "username": "newagent",
            "usable_password": "true",
            "password1": "password",
            "password2": "password",
        },
    )
    short = admin.post(
        "/admin/auth/user/add/",
        {
            "username": "newagent",
            "usable_password": "true",
            "password1": "Zq7#kd",
            "password2": "Zq7#kd",
        },
    )

    assert weak.status_code == short.status_code == 200
    assert "too common" in weak.content.decode()
    assert "too short" in short.content.decode()
    assert not User.objects.filter(username="newagent").exists()
