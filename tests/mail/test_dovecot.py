"""The test IMAP server itself (tests/mail/dovecot.py): it answers on both listeners, the
STARTTLS and IMAPS certificates verify against its own CA file only, and APPEND delivers."""

from __future__ import annotations

import ssl

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from tests.mail.conftest import SUPPORT_PASSWORD, SUPPORT_USER
from tests.mail.dovecot import Dovecot


def test_append_delivers_into_the_users_inbox(dovecot: Dovecot) -> None:
    uid = dovecot.append(SUPPORT_USER, b"From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n")

    assert dovecot.uids(SUPPORT_USER) == [uid]
    assert dovecot.uids(SUPPORT_USER, criteria="UNSEEN") == [uid]
    assert dovecot.uids("other") == []


def test_starttls_and_imaps_verify_against_the_servers_own_certificate(dovecot: Dovecot) -> None:
    plain = IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=5)
    plain.starttls(dovecot.ssl_context())
    plain.login(SUPPORT_USER, SUPPORT_PASSWORD)
    plain.logout()

    tls = IMAPClient(
        dovecot.host, port=dovecot.tls_port, ssl=True, ssl_context=dovecot.ssl_context(), timeout=5
    )
    tls.login(SUPPORT_USER, SUPPORT_PASSWORD)
    tls.logout()

    # the machine's own CAs do not know the test certificate
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(
            dovecot.host,
            port=dovecot.tls_port,
            ssl=True,
            ssl_context=ssl.create_default_context(),
            timeout=5,
        )


def test_a_wrong_password_is_refused(dovecot: Dovecot) -> None:
    client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=5)
    with pytest.raises(LoginError):
        client.login(SUPPORT_USER, "wrong")
    client.shutdown()
