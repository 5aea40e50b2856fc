"""PostgreSQL in production: an owner role that runs the migrations and an application role with
only the rights the app needs. As the application role, the audit trail cannot be emptied,
altered, its triggers switched off or the table dropped; published versions cannot be rewritten;
the app's ordinary work (loads, publishing, microdata, accounts, M&E) goes through."""

from __future__ import annotations

import os
import uuid
from datetime import date

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

import mmicd.store as store_module
from mmicd.auth.accounts import authenticate, ensure_admin
from mmicd.cli import main
from mmicd.engine import compute
from mmicd.engine.synthetic import lfs_microdata
from mmicd.me import repository as repo
from mmicd.me.model import BreakdownValue, Milestone, Report
from mmicd.model import DatasetMeta, Kind, Status
from mmicd.store import SchemaOutdated, Store, record_audit
from tests.me.test_repository import IND, IV
from tests.me.users import ANALYST, PLANNER, REVIEWER
from tests.test_store import META, frame

PG_URL = os.environ.get("MMICD_TEST_DATABASE_URL")


def as_role(role: str, schema: str) -> str:
    return make_url(PG_URL).set(username=role, password=None).update_query_dict(
        {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture
def roles():
    """A fresh owner role and application role (cluster-wide names prefixed ``db_``) and a schema
    the owner owns; (owner URL, app URL, app role name). Dropped afterwards. Without a PostgreSQL
    URL: skipped locally, a failure in CI."""
    if not PG_URL:
        reason = "database roles are a PostgreSQL matter: set MMICD_TEST_DATABASE_URL"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    suffix = uuid.uuid4().hex[:10]
    owner, app, schema = f"db_owner_{suffix}", f"db_app_{suffix}", f"db_s_{suffix}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{owner}" LOGIN'))
        conn.execute(text(f'CREATE ROLE "{app}" LOGIN'))
        conn.execute(text(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{owner}"'))
    yield as_role(owner, schema), as_role(app, schema), app
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        for role in (app, owner):
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
    admin.dispose()


@pytest.fixture
def migrated(roles, monkeypatch, capsys):
    """The schema created by ``python -m mmicd store migrate`` as the owner, rights granted to the app."""
    owner_url, app_url, app = roles
    monkeypatch.setenv("MMICD_DATABASE_URL", app_url)
    monkeypatch.setenv("MMICD_MIGRATION_DATABASE_URL", owner_url)
    assert main(["store", "migrate"]) == 0
    out = capsys.readouterr().out
    assert f"revision {store_module.head_revision()}" in out and f"application role {app} granted" in out
    monkeypatch.delenv("MMICD_MIGRATION_DATABASE_URL")
    return roles


def refused(url: str, sql: str) -> str:
    """Run ``sql`` on ``url``; the database's refusal (the test fails if it is accepted)."""
    engine = create_engine(url)
    try:
        with pytest.raises(DBAPIError) as err, engine.begin() as conn:
            conn.exec_driver_sql(sql)
        return str(err.value.orig)
    finally:
        engine.dispose()


def test_the_app_role_cannot_empty_alter_or_drop_the_audit_trail(migrated, tmp_path):
    owner_url, app_url, _ = migrated
    s = Store(app_url, data_dir=tmp_path)  # at head: opening needs no migration, and runs none
    v = s.add_dataset(META, frame(), actor="analyst", status=Status.PUBLISHED)
    trail = s.audit()
    assert trail["action"].tolist() == ["created", "status:published"]
    s.engine.dispose()
    for sql in ("TRUNCATE audit", "TRUNCATE audit CASCADE", "TRUNCATE datasets CASCADE",
                "UPDATE audit SET actor = 'someone else'", "DELETE FROM audit",
                "DELETE FROM observations", f"UPDATE observations SET value = 0 WHERE dataset_id = {v.id}",
                "DELETE FROM datasets", "DELETE FROM microdata_parts"):
        assert "permission denied" in refused(app_url, sql), sql
    for sql in ("ALTER TABLE audit DISABLE TRIGGER audit_append_only",
                "ALTER TABLE audit DISABLE TRIGGER audit_no_truncate", "ALTER TABLE audit DISABLE TRIGGER ALL",
                "ALTER TABLE audit DISABLE TRIGGER USER", "DROP TABLE audit", "DROP TABLE audit CASCADE",
                "DROP TRIGGER audit_append_only ON audit", "ALTER TABLE audit OWNER TO CURRENT_USER",
                "DROP FUNCTION refuse_change() CASCADE"):
        assert "must be owner" in refused(app_url, sql), sql
    assert "permission denied for schema" in refused(app_url, "CREATE TABLE audit_copy (id int)")
    # even the owner cannot empty it while the triggers are on
    assert "append-only" in refused(owner_url, "TRUNCATE audit")
    s = Store(app_url, data_dir=tmp_path)
    assert s.audit().equals(trail)
    s.engine.dispose()


def test_the_app_role_does_the_apps_ordinary_work(migrated, tmp_path):
    _, app_url, _ = migrated
    s = Store(app_url, data_dir=tmp_path)
    # observations: load, publish, a second version superseding the first, re-publish
    v1 = s.add_dataset(META, frame(), actor="analyst", status=Status.PUBLISHED)
    v2 = s.add_dataset(META, frame((110.0, 70.0, 40.0)), actor="analyst")
    s.publish(v2.id, actor="reviewer")
    assert [(v.version, v.status) for v in s.datasets()] == [(1, Status.SUPERSEDED), (2, Status.PUBLISHED)]
    s.publish(v1.id, actor="reviewer", note="revert")
    assert s.observations()["value"].max() == 100.0
    # survey microdata: stored, published, read and computed
    lfs = lfs_microdata(2_000, strata=5, psus=20, seed=3)
    m = s.add_microdata(DatasetMeta(kind=Kind.LFS, source="NSO LFS", edition="2022", scope="NPL"), lfs,
                        actor="analyst", status=Status.PUBLISHED)
    assert len(s.microdata(m.id)) == 2_000
    assert not compute(s, country="NPL", indicators=["lfpr"]).table.empty
    # the ordinary ingestion path (read, check, commit): the demo census and labour-force survey files
    from mmicd.demo import ensure_demo_uploads

    before = len(s.datasets())
    ensure_demo_uploads(s)
    loaded = s.datasets()[before:]
    assert {v.kind.value for v in loaded} >= {"census", "lfs"} and {v.status for v in loaded} == {Status.PUBLISHED}
    # an audit entry of the caller's own
    with s.engine.begin() as conn:
        record_audit(conn, actor="admin", action="note", entity_type="dataset", entity_id=v1.id, reason="checked")
    assert s.audit(action="note")["reason"].tolist() == ["checked"]
    # accounts: the first admin, a sign-in (which updates the account)
    ensure_admin(s, {"MMICD_ADMIN_USER": "root", "MMICD_ADMIN_PASSWORD": "a long password 1"})
    assert authenticate(s, "root", "a long password 1", sleep=lambda _: None).username == "root"
    # M&E: intervention, indicator, target change (milestones replaced), report and its approval
    repo.save_intervention(s, IV, user=PLANNER)
    repo.save_indicator(s, IND, user=PLANNER)
    repo.change_targets(s, IND.id, user=REVIEWER, reason="second donor",
                        milestones=[Milestone(due=date(2025, 12, 31), target=320)])
    report = Report(indicator_id=IND.id, period_start=date(2025, 1, 1), period_end=date(2025, 12, 31), value=310,
                    breakdown=[BreakdownValue(sex="F", value=130), BreakdownValue(sex="M", value=180)],
                    state="submitted")
    report_id = repo.record_report(s, report, user=ANALYST)
    repo.set_report_state(s, report_id, "approved", user=REVIEWER)
    p = repo.load_portfolio(s, "NPL")
    assert [m.target for m in p.indicators[0].milestones] == [320]
    assert p.reports[0].state == "approved"
    s.engine.dispose()


def test_tables_of_later_migrations_get_the_apps_rights_by_default(migrated):
    owner_url, app_url, _ = migrated
    owner = create_engine(owner_url)
    with owner.begin() as conn:  # what a later migration, run as the owner, does
        conn.exec_driver_sql("CREATE TABLE later_table (id serial PRIMARY KEY, note text)")
    owner.dispose()
    app = create_engine(app_url)
    with app.begin() as conn:
        conn.exec_driver_sql("INSERT INTO later_table (note) VALUES ('x')")
        conn.exec_driver_sql("UPDATE later_table SET note = 'y'")
        assert conn.exec_driver_sql("SELECT note FROM later_table").scalar_one() == "y"
    app.dispose()
    assert "permission denied" in refused(app_url, "TRUNCATE later_table")
    assert "must be owner" in refused(app_url, "DROP TABLE later_table")


def test_an_app_role_behind_the_schema_is_told_to_migrate_and_the_owner_url_upgrades(roles, tmp_path):
    owner_url, app_url, app = roles
    owner = create_engine(owner_url)
    cfg = store_module._alembic_config()
    with owner.begin() as conn:  # a store of the previous release, with its rights
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        store_module.grant_app_role(conn, app)
    with pytest.raises(SchemaOutdated) as err:
        Store(app_url, data_dir=tmp_path)
    assert "0003" in str(err.value) and "python -m mmicd store migrate" in str(err.value)
    assert "0003" in err.value.message("es") and err.value.message("es") != str(err.value)
    s = Store(app_url, data_dir=tmp_path, migration_url=owner_url)  # upgraded as the owner, rights granted
    assert store_module.schema_revision(s.engine) == store_module.head_revision()
    assert s.add_microdata(DatasetMeta(kind=Kind.LFS, source="NSO LFS", edition="2022", scope="NPL"),
                           lfs_microdata(500, strata=5, psus=20, seed=4), actor="analyst").storage == "database"
    assert "permission denied" in refused(app_url, "TRUNCATE audit")
    s.engine.dispose()
    owner.dispose()
