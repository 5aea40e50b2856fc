"""The inbox digest through a real SMTP server started in the test (aiosmtpd): who receives what,
once a day; addresses checked; user text kept literal and out of the headers."""

from __future__ import annotations

import socket
from datetime import date
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from mmicd import mail, workflow
from mmicd.auth import SYSTEM, Role
from mmicd.auth.accounts import AccountError, create_user, get_user
from mmicd.cli import main
from mmicd.model import DatasetMeta, Kind, Status
from tests.conftest import CLI_ADMIN_PASSWORD
from tests.test_store import frame

DAY = date(2026, 6, 10)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield mail.Smtp(host="127.0.0.1", port=port, sender="mmicd@example.org"), handler
    controller.stop()


@pytest.fixture
def state(store):
    """Reviewer rev (Nepal) with a version to review; analyst ana with a version returned with a
    note; viewer vic with nothing waiting; all three with an address; dan waiting without one."""
    create_user(store, SYSTEM, username="rev", role=Role.REVIEWER, password="long enough pw", countries="NPL",
                display_name="Rita\r\nBcc: evil@example.org")
    create_user(store, SYSTEM, username="ana", role=Role.ANALYST, password="long enough pw", countries="NPL")
    create_user(store, SYSTEM, username="vic", role=Role.VIEWER, password="long enough pw")
    create_user(store, SYSTEM, username="dan", role=Role.REVIEWER, password="long enough pw")
    for name in ("rev", "ana", "vic"):
        mail.set_email(store, SYSTEM, name, f" {name.upper()}@Example.org ")
    meta = DatasetMeta(kind=Kind.MIGRANT_STOCK, source="Test office", scope="NPL", title="=HYPERLINK(1) *census*")
    submitted = store.add_dataset(meta, frame(), actor="ana", status=Status.SUBMITTED)
    other = store.add_dataset(meta.model_copy(update={"source": "Other office", "title": "Survey"}), frame(),
                              actor="ana", status=Status.SUBMITTED)
    workflow.return_to_draft(store, get_user(store, "rev"), other.id, "Line one\r\nSubject: injected")
    return submitted, other


def test_digests_reach_who_has_something_waiting_once_a_day(store, smtp, state):
    server, received = smtp
    submitted, other = state
    assert mail.send_digests(store, server, DAY, "en", public_url="https://mmicd.example.org/") == (2, 1)
    by_rcpt = {tuple(rcpt): msg for rcpt, msg in received.messages}
    assert set(by_rcpt) == {("ana@example.org",), ("rev@example.org",)}  # vic: nothing; dan: no address
    rev = by_rcpt[("rev@example.org",)]
    assert rev["Subject"] == "MMICD: 1 item awaits you (10 June 2026)"
    assert rev["To"] == "rev@example.org" and rev["From"] == "mmicd@example.org"
    assert rev.get_content_type() == "text/plain" and rev["Bcc"] is None
    lines = rev.get_content().splitlines()
    assert lines[0] == "Hello Rita Bcc: evil@example.org,"  # user text on one line, in the body only
    assert f"- Dataset version {submitted.id} of NPL submitted for review: =HYPERLINK(1) *census* (" in lines[5]
    assert lines[6] == f"  Open: https://mmicd.example.org/review?dataset={submitted.id}"
    ana = by_rcpt[("ana@example.org",)].get_content().splitlines()
    assert ana[4] == "1 returned to you"
    assert ana[5].startswith(f"- Your dataset version {other.id} of NPL was returned with a note: Survey (")
    assert ana[6] == "  Note from the reviewer: Line one Subject: injected"
    assert "Subject: injected" not in str(by_rcpt[("ana@example.org",)]).split("\n\n", 1)[0]
    # the same day again: nothing sent twice
    assert mail.send_digests(store, server, DAY, "en") == (0, 3)
    assert len(received.messages) == 2
    # the next day, in French
    assert mail.send_digests(store, server, date(2026, 6, 11), "fr") == (2, 1)
    assert received.messages[-1][1]["Subject"].startswith("MMICD : 1 élément vous attend (11 juin 2026)")


def test_a_failed_sending_records_nothing_so_the_next_run_sends(store, state, smtp):
    server, received = smtp
    dead = mail.Smtp(host="127.0.0.1", port=1, sender="mmicd@example.org")
    with pytest.raises(OSError):
        mail.send_digests(store, dead, DAY)
    assert mail.send_digests(store, server, DAY) == (2, 1)


@pytest.mark.parametrize("bad", ["not an address", "a@b.org\r\nBcc: x@y.org", "a@b", "Ann <a@b.org>", "a@@b.org"])
def test_addresses_are_checked_before_they_are_stored(store, bad):
    create_user(store, SYSTEM, username="ann", role=Role.VIEWER, password="long enough pw")
    with pytest.raises(AccountError) as err:
        mail.set_email(store, SYSTEM, "ann", bad)
    assert err.value.reason == "email"
    assert mail.recipients(store) == []
    assert mail.set_email(store, SYSTEM, "ann", "Ann.Lee+mmicd@Stat.example.org") == "ann.lee+mmicd@stat.example.org"
    assert [(u.username, e) for u, e in mail.recipients(store)] == [("ann", "ann.lee+mmicd@stat.example.org")]
    with pytest.raises(PermissionError):
        mail.set_email(store, get_user(store, "ann"), "ann", "x@example.org")


def test_the_command_line_sends_as_an_administrator(store, store_url, state, smtp, monkeypatch, capsys):
    server, received = smtp
    create_user(store, SYSTEM, username="admin", role=Role.ADMIN, password=CLI_ADMIN_PASSWORD)  # no address
    monkeypatch.setenv("MMICD_DATABASE_URL", store_url)
    monkeypatch.delenv("MMICD_SMTP_HOST", raising=False)
    assert main(["inbox", "send"]) == 2
    assert "No SMTP server is configured" in capsys.readouterr().err
    monkeypatch.setenv("MMICD_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MMICD_SMTP_PORT", str(server.port))
    assert main(["inbox", "send"]) == 0
    assert capsys.readouterr().out.strip() == "2 digests sent; 1 already sent today or empty."
    assert main(["inbox", "send"]) == 0
    assert capsys.readouterr().out.strip() == "0 digests sent; 3 already sent today or empty."
    assert len(received.messages) == 2
