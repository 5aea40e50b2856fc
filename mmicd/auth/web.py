"""The session cookie's routes, served by ``app.py`` beside the dashboard (Streamlit cannot set an
HttpOnly cookie itself):

- ``GET /auth/session?code=…&next=/page``: uses a one-time sign-in code (:func:`sessions.exchange`),
  sets ``mmicd_session`` (HttpOnly, SameSite=Lax, Path=/, Secure over https) and answers 303 to
  ``next``, a path of this app only (anything else goes to ``/``); a refused code goes to
  ``/account`` without a cookie.
- ``GET /auth/signout?next=/page``: ends the session of the cookie (unless the browser says another
  site sent it there) and clears the cookie; 303 to ``next``.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mmicd.auth import sessions
from mmicd.config import get_settings
from mmicd.store import Store

XSRF_COOKIE = "_streamlit_xsrf"


@cache
def _store(url: str) -> Store:
    return Store(url)


@cache
def _secret(data_dir: Path, from_env: str | None) -> bytes:
    return sessions.load_secret(data_dir, {"MMICD_SESSION_SECRET": from_env} if from_env else {})


def secret() -> bytes:
    """The key signing session cookies (read once per data folder and ``MMICD_SESSION_SECRET``)."""
    return _secret(get_settings().data_dir, os.environ.get("MMICD_SESSION_SECRET"))


def safe_next(value: str | None) -> str:
    """``value`` if it is a path of this app (``/…``, no scheme, host, backslash or control
    character), else ``/``: never a redirect to another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/"


def _https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def _redirect(target: str) -> RedirectResponse:
    response = RedirectResponse(target, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the code never leaves in a Referer
    return response


async def session_endpoint(request: Request) -> Response:
    settings = get_settings()
    key = secret()
    value = await run_in_threadpool(sessions.exchange, _store(settings.database_url), key,
                                    request.query_params.get("code", ""),
                                    bound_to=sessions.binding(request.cookies.get(XSRF_COOKIE)))
    if value is None:
        return _redirect("/account")
    response = _redirect(safe_next(request.query_params.get("next")))
    response.set_cookie(sessions.COOKIE, value, max_age=int(sessions.SessionPolicy.from_env().lifetime_hours * 3600),
                        path="/", httponly=True, samesite="lax", secure=_https(request))
    return response


async def signout_endpoint(request: Request) -> Response:
    sid = sessions.unsign(secret(), request.cookies.get(sessions.COOKIE))
    if sid and request.headers.get("sec-fetch-site") != "cross-site":  # another site cannot sign you out
        await run_in_threadpool(sessions.revoke, _store(get_settings().database_url), sid)
    response = _redirect(safe_next(request.query_params.get("next")))
    response.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="lax", secure=_https(request))
    return response


def session_routes() -> list[Route]:
    return [Route("/auth/session", session_endpoint, methods=["GET"]),
            Route("/auth/signout", signout_endpoint, methods=["GET"])]
