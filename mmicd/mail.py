"""The inbox by e-mail: a plain-text digest of :mod:`mmicd.inbox` sent through the configured SMTP
server to each active account with an e-mail address, at most once a day (``python -m mmicd inbox
send``, for cron).

Subjects and bodies are built from translated templates; user text (titles, notes, names) is
inserted literally into a ``text/plain`` body, never interpreted. Subjects lose every CR and LF, and
addresses are checked (:func:`check_email`) before they are stored, so no header can be injected.
The SMTP server comes from ``MMICD_SMTP_HOST``, ``MMICD_SMTP_PORT`` (25), ``MMICD_SMTP_USER``,
``MMICD_SMTP_PASSWORD``, ``MMICD_SMTP_FROM`` and ``MMICD_SMTP_STARTTLS`` (1/0); links in the
digest start with ``MMICD_PUBLIC_URL`` (default ``http://localhost:8501``).
"""

from __future__ import annotations

import hashlib
import os
import re
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from mmicd import inbox
from mmicd.auth import Action, User, require
from mmicd.auth.accounts import AccountError, _user
from mmicd.i18n import format_date, t
from mmicd.store import Store, record_audit
from mmicd.store.schema import inbox_mail, users

EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+\.[^@\s<>()\[\],;:\"\\]+$")


def check_email(text: str) -> str:
    """The address trimmed and lower-cased ("" to remove it); :class:`AccountError` ("email") when
    it is not one address (spaces, line breaks, several @, a display name...)."""
    value = (text or "").strip().lower()
    if value and (len(value) > 320 or not EMAIL.match(value)):
        raise AccountError("email")
    return value


def set_email(store: Store, actor: User, username: str, email: str) -> str:
    """An administrator sets (or removes, with "") the e-mail address of an account; audited."""
    require(actor, Action.MANAGE_USERS)
    value = check_email(email)
    with store.engine.begin() as conn:
        row = conn.execute(select(users.c.email).where(users.c.username == username)).first()
        if row is None:
            raise AccountError("unknown_user")
        conn.execute(update(users).where(users.c.username == username).values(email=value))
        record_audit(conn, actor=actor.label, action="user:email", entity_type="user", entity_id=username,
                     old={"email": row.email}, new={"email": value})
    return value


def recipients(store: Store) -> list[tuple[User, str]]:
    """Active accounts with an e-mail address."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(users).where(users.c.active.is_(True), users.c.email != "")
                            .order_by(users.c.username)).all()
    return [(_user(r), r.email) for r in rows]


@dataclass(frozen=True)
class Smtp:
    host: str
    sender: str
    port: int = 25
    user: str = ""
    password: str = ""
    starttls: bool = False


def smtp_settings(env: Mapping[str, str] | None = None) -> Smtp | None:
    """The configured SMTP server, or None (``MMICD_SMTP_HOST`` unset)."""
    env = os.environ if env is None else env
    host = env.get("MMICD_SMTP_HOST", "").strip()
    if not host:
        return None
    return Smtp(host=host, sender=env.get("MMICD_SMTP_FROM", "").strip() or f"mmicd@{host}",
                port=int(env.get("MMICD_SMTP_PORT") or 25), user=env.get("MMICD_SMTP_USER", ""),
                password=env.get("MMICD_SMTP_PASSWORD", ""),
                starttls=env.get("MMICD_SMTP_STARTTLS", "0").lower() in ("1", "true", "yes"))


def one_line(text: str) -> str:
    """A header value: every CR and LF (and other line breaks) made a space."""
    return " ".join(str(text).splitlines()).replace("\r", " ").replace("\n", " ")


def digest(user: User, email: str, items: list[inbox.Item], today: date, lang: str,
           public_url: str, sender: str) -> EmailMessage:
    day = format_date(today, lang)
    msg = EmailMessage()
    msg["Subject"] = one_line(t("inbox.mail.subject", lang, n=len(items), date=day))
    msg["From"], msg["To"] = sender, email
    lines = [t("inbox.mail.greeting", lang, name=one_line(user.display_name or user.username)), "",
             t("inbox.mail.intro", lang, date=day), ""]
    for kind, n in inbox.counts(items).items():
        lines.append(inbox.kind_label(kind, lang, n))
        for item in (i for i in items if i.kind == kind):
            lines.append(f"- {inbox.item_text(item, lang)}")
            if item.note:
                lines.append(f"  {t('inbox.note', lang, note=one_line(item.note))}")
            lines.append(f"  {t('inbox.mail.link', lang, url=public_url.rstrip('/') + '/' + item.link)}")
        lines.append("")
    lines.append(t("inbox.mail.footer", lang))
    msg.set_content("\n".join(lines), subtype="plain", charset="utf-8")
    return msg


def send_digests(store: Store, smtp: Smtp, today: date, lang: str = "en",
                 public_url: str | None = None) -> tuple[int, int]:
    """Send today's digest to every recipient with something waiting, once a day: the day is
    recorded in the same transaction as the sending (a failed sending records nothing; a second
    run, or a concurrent one, skips). Returns (sent, skipped)."""
    public_url = public_url or os.environ.get("MMICD_PUBLIC_URL", "http://localhost:8501")
    sent = skipped = 0
    for user, email in recipients(store):
        items = inbox.load(store, user, today)
        if not items:
            skipped += 1
            continue
        msg = digest(user, email, items, today, lang, public_url, smtp.sender)
        body = msg.get_content().encode()
        try:
            with store.engine.begin() as conn:
                if conn.execute(select(inbox_mail.c.day).where(inbox_mail.c.username == user.username,
                                                               inbox_mail.c.day == today)).first():
                    skipped += 1
                    continue
                conn.execute(insert(inbox_mail).values(
                    username=user.username, day=today, digest=hashlib.sha256(body).hexdigest(), items=len(items),
                    sent_at=datetime.now(UTC)))
                _send(smtp, msg)
        except IntegrityError:  # another run sent it meanwhile
            skipped += 1
            continue
        sent += 1
    return sent, skipped


def _send(smtp: Smtp, msg: EmailMessage) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.user:
            client.login(smtp.user, smtp.password)
        client.send_message(msg)
