"""Personal API tokens (kept hashed, audited, the account's rules at every use), created and revoked
on the Account page; request counters in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from mmicd.api.limits import client_address, hit
from mmicd.api.tokens import MAX_TOKENS, create_token, list_tokens, revoke_token, token_user
from mmicd.auth import SYSTEM, Role
from mmicd.auth.accounts import AccountError, create_user, update_user
from mmicd.store import Store
from mmicd.store.schema import api_tokens
from tests.auth.test_role_pages import app


def test_a_token_acts_as_its_account_with_the_accounts_current_rules(store):
    ana = create_user(store, SYSTEM, username="ana", role=Role.ANALYST, password="long enough 1", countries="NPL")
    token = create_token(store, ana, "  results   platform ")
    assert token.startswith("mmicd_") and len(token) > 40
    token_id, user = token_user(store, token)
    assert (user.username, user.role, user.countries) == ("ana", Role.ANALYST, "NPL")
    (listed,) = list_tokens(store, ana)
    assert (listed.id, listed.name, listed.prefix) == (token_id, "results platform", token[:10])
    with store.engine.connect() as conn:
        row = conn.execute(select(api_tokens)).one()
    assert token not in str(tuple(row)) and len(row.token_hash) == 64
    # the account's role at the time of use, not at creation
    update_user(store, SYSTEM, "ana", role=Role.VIEWER)
    assert token_user(store, token)[1].role == Role.VIEWER
    update_user(store, SYSTEM, "ana", active=False)
    assert token_user(store, token) is None
    update_user(store, SYSTEM, "ana", active=True)
    with store.engine.begin() as conn:
        conn.execute(update(api_tokens).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert token_user(store, token) is None and list_tokens(store, ana) == []
    assert token_user(store, token[:-1] + ("A" if token[-1] != "A" else "B")) is None


def test_only_the_owner_revokes_and_every_change_is_audited(store):
    ana = create_user(store, SYSTEM, username="ana", role=Role.ANALYST, password="long enough 1")
    bob = create_user(store, SYSTEM, username="bob", role=Role.VIEWER, password="long enough 2")
    token = create_token(store, ana, "portal")
    token_id = token_user(store, token)[0]
    with pytest.raises(AccountError, match="token_unknown"):
        revoke_token(store, bob, token_id)
    assert token_user(store, token) is not None
    revoke_token(store, ana, token_id)
    assert token_user(store, token) is None
    with pytest.raises(AccountError, match="token_unknown"):
        revoke_token(store, ana, token_id)
    trail = store.audit()
    assert trail.loc[trail["entity_type"] == "api_token", ["actor", "action"]].values.tolist() == [
        ["ana", "token:create"], ["ana", "token:revoke"]]
    assert token not in trail.to_string()
    with pytest.raises(AccountError, match="token_name_empty"):
        create_token(store, ana, "   ")
    for n in range(MAX_TOKENS):
        create_token(store, bob, f"t{n}")
    with pytest.raises(AccountError, match="token_too_many"):
        create_token(store, bob, "one more")


def test_counters_are_shared_by_stores_and_reset_with_the_window(store_url, tmp_path):
    a, b = Store(store_url), Store(store_url)  # two servers' connections to one database
    start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    waits = [hit(s, "address:192.0.2.9", 3, 60, now=start + timedelta(seconds=i)) for i, s in enumerate([a, b, a, b])]
    assert waits == [0, 0, 0, 57]  # the 4th request, 3 s into the window: 57 s to its end
    assert hit(a, "address:192.0.2.10", 3, 60, now=start + timedelta(seconds=4)) == 0  # another address
    assert hit(b, "address:192.0.2.9", 3, 60, now=start + timedelta(seconds=60)) == 0  # a new window
    for s in (a, b):
        s.engine.dispose()


def test_client_address_behind_proxies():
    assert client_address("10.0.0.2", "203.0.113.7, 10.0.0.1", hops=0) == "10.0.0.2"
    assert client_address("10.0.0.2", "198.51.100.1, 203.0.113.7", hops=1) == "203.0.113.7"
    assert client_address("10.0.0.2", "203.0.113.7", hops=2) == "10.0.0.2"  # fewer hops than said: the peer


def test_account_page_creates_shows_once_and_revokes_a_token(app_env):
    s = Store(app_env)
    ana = create_user(s, SYSTEM, username="ana", role=Role.ANALYST, password="long enough 1")
    at = app(ana, page="account")
    assert not at.exception, at.exception
    at.text_input(key="api_token_name").set_value("donor platform")
    next(b for b in at.button if b.label == "Create a token").click().run()
    assert not at.exception, at.exception
    (shown,) = [c.value for c in at.code]
    assert token_user(s, shown)[1].username == "ana"
    at.run()  # shown once: gone at the next run
    assert not at.code
    assert at.dataframe[0].value["Name"].tolist() == ["donor platform"]
    at.button(key="api_token_revoke").click().run()
    assert not at.exception, at.exception
    assert token_user(s, shown) is None and "Token revoked." in [m.value for m in at.success]


def test_answers_are_bounded_in_rows_and_in_computing_time(seeded_store, monkeypatch):
    from mmicd.api import data, sdmx
    from mmicd.api.formats import ApiError
    from mmicd.auth import ANONYMOUS

    flow = next(f for f in sdmx.FLOWS if f.key == "MMICD")
    total = {"SEX": "_T", "AGE": "_T", "COMPOSITE_BREAKDOWN": "_T", "COUNTERPART_AREA": "_T"}

    def ask(areas: str, **codes: str):
        codes = {"INDICATOR": "pop_total", "REF_AREA": areas, **codes}
        key = ".".join(codes.get(d, "") for d in flow.dimensions)
        return data.data(seeded_store, ANONYMOUS, data.Query(flow, data.parse_key(key, flow)), "en", False)

    monkeypatch.setattr(data, "MAX_OBS", 10)
    with pytest.raises(ApiError) as refused:
        ask("NPL")  # every sex and age group: more than 10 rows
    assert (refused.value.status, refused.value.reason) == (413, "too_large")
    rows = ask("NPL", **total)  # the codes choose the rows before the bound
    assert 0 < len(rows) == len(set(rows["TIME_PERIOD"])) <= 10

    monkeypatch.setattr(data, "MAX_OBS", 100)
    monkeypatch.setattr(data, "COMPUTE_SECONDS", 0)  # past the budget after the first area ...
    before = data._compute.cache_info().currsize
    with pytest.raises(ApiError) as refused:
        ask("BTN+LKA", **total)
    assert (refused.value.status, refused.value.headers) == (503, {"Retry-After": "5"})
    assert data._compute.cache_info().currsize == before + 1  # ... which is kept for the retry
    monkeypatch.setattr(data, "COMPUTE_SECONDS", 15)
    assert set(ask("BTN+LKA", **total)["REF_AREA"]) == {"064", "144"}
