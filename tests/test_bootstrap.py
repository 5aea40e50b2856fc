"""First start: baseline, then (unless switched off) the synthetic demo data and the illustrative portfolio."""

from __future__ import annotations

from mmicd.bootstrap import demo_enabled, first_start
from mmicd.model import Form, Status


def test_first_start_loads_baseline_and_demo_once(store):
    assert first_start(store) is True
    versions = store.datasets()
    assert all(v.status == Status.PUBLISHED for v in versions)
    sources = {v.source for v in versions}
    assert "UN DESA, International Migrant Stock" in sources
    demo = [v for v in versions if "synthetic" in v.source.lower()]
    assert {v.form for v in demo} == {Form.OBSERVATIONS, Form.MICRODATA}
    assert all(v.scope == "NPL" for v in demo)
    from mmicd.me.repository import load_portfolio

    assert len(load_portfolio(store, "NPL").interventions) >= 10
    assert first_start(store) is False  # a store with data is never touched again
    assert len(store.datasets()) == len(versions)


def test_demo_can_be_switched_off(store):
    assert not demo_enabled({"MMICD_DEMO": "0"}) and demo_enabled({})
    first_start(store, demo=False)
    assert not [v for v in store.datasets() if "synthetic" in v.source.lower()]
