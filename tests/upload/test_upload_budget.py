"""The upload page's check runs within a time and memory budget and stops on the server past it; the
workbook with every problem marked is built only when asked for."""

from __future__ import annotations

import io
import time

import openpyxl
import pytest

from mmicd import ingest
from mmicd.config import LANGUAGES
from mmicd.i18n import catalogue
from mmicd.ingest import CheckStopped, Upload, budgeted, prepare
from tests.ingest.conftest import BAD
from tests.upload.test_upload_page import broken_template, open_upload_page, upload

CSV = "text/csv"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_budget_stops_on_time_and_on_memory(monkeypatch):
    clock, seen = Clock(), []
    check = budgeted(lambda f, phase: seen.append(f), seconds=10, clock=clock)
    check(0.5, "reading")
    clock.now = 10.5
    with pytest.raises(CheckStopped) as stop:
        check(0.6, "reading")
    assert stop.value.reason == "time" and stop.value.limit == 10 and seen == [0.5]
    rss = iter([100.0, 150.0, 700.0])
    monkeypatch.setattr(ingest, "_resident_mb", lambda: next(rss))
    check = budgeted(None, megabytes=512)
    check(0.1, "checking")                       # +50 MB
    with pytest.raises(CheckStopped) as stop:
        check(0.2, "checking")                   # +600 MB
    assert stop.value.reason == "memory"


def test_a_stopped_check_stops_the_ingestion_itself(monkeypatch):
    """The exception is not turned into an 'unreadable file' issue: nothing runs after it."""
    validated = []
    monkeypatch.setattr(ingest.validate, "check_observations", lambda *a, **k: validated.append(1))
    clock = Clock()

    def progress(fraction, phase):
        clock.now += 1.0

    body = (BAD / "negative_count.csv").read_bytes()
    with pytest.raises(CheckStopped):
        prepare([Upload("n.csv", body)], progress=budgeted(progress, seconds=1.5, clock=clock))
    assert validated == []


def test_the_page_stops_a_check_past_its_time_with_a_message(app_env, monkeypatch):
    monkeypatch.setenv("MMICD_CHECK_SECONDS", "1e-9")
    at = open_upload_page()
    at = upload(at, ("census.csv", b"ref_area,time_period,sex,value\nNPL,2021,F,10\nNPL,2021,M,12\n"))
    assert any("was stopped after" in e.value and "census.csv" in e.value for e in at.error)
    assert not any(b.label.startswith("Confirm") and not b.disabled for b in at.button)   # nothing to store
    monkeypatch.setenv("MMICD_CHECK_SECONDS", "120")
    at.run()   # the stopped check is kept (not run again on every rerun) until the file or options change
    assert any("was stopped after" in e.value for e in at.error)


def test_the_annotated_workbook_is_built_only_when_asked_for(app_env, monkeypatch):
    calls = []
    real = ingest.annotate

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "annotate", counted)
    at = open_upload_page()
    at = upload(at, ("broken.xlsx", broken_template()))
    assert calls == [] and not [d for d in at.get("download_button") if "marked" in d.label]
    make = next(b for b in at.button if b.key == "upload_annot_make_0")
    make.click().run()
    assert calls == [1]
    at.run()                                    # kept: not built again
    assert calls == [1]
    [download] = [d for d in at.get("download_button") if d.proto.label.startswith("Download broken.xlsx")]
    assert download.proto.label == "Download broken.xlsx with every problem marked"


def test_annotated_csv_is_streamed_with_marks_and_summary():
    body = (BAD / "unknown_country.csv").read_bytes()
    issues = prepare([Upload("u.csv", body)]).issues
    wb = openpyxl.load_workbook(io.BytesIO(ingest.annotate(Upload("u.csv", body), issues)))
    assert wb.sheetnames == ["Problems", "data"]
    assert wb["data"]["A2"].value == "Atlantis" and "Unknown country" in wb["data"]["A2"].comment.text
    assert wb["data"]["A2"].fill.fgColor.rgb.endswith("FFC7CE")
    assert list(wb["Problems"].iter_rows(values_only=True))[1][3] == 2


@pytest.mark.parametrize("lang", LANGUAGES)
def test_budget_messages_exist_in_every_language(lang):
    keys = {"upload.stopped.time", "upload.stopped.memory", "upload.annotated.stopped_time",
            "upload.annotated.stopped_memory", "upload.annotated.make", "upload.annotated.make_help",
            "upload.annotated.making"}
    assert keys <= set(catalogue(lang)), keys - set(catalogue(lang))


# ---- the check in a thread of its own: progress, Cancel, polling, session end -----------------------
CENSUS = ("census.csv", b"ref_area,time_period,sex,value\nNPL,2021,F,10\nNPL,2021,M,12\n")


def _jobs(at):
    return dict(at.session_state["_upload_jobs"]) if "_upload_jobs" in at.session_state else {}


def test_a_long_check_shows_its_progress_and_cancel_stops_it_on_the_server(app_env, monkeypatch):
    from mmicd.ui import upload as view

    monkeypatch.setattr(view, "WAIT", 0.3)        # the page stops waiting in its run, and polls
    steps = []

    def endless(uploads, *, progress, **kwargs):  # a check that would never end by itself
        while True:
            progress(0.5, "reading")
            steps.append(1)
            time.sleep(0.01)

    monkeypatch.setattr(ingest, "prepare", endless)
    at = open_upload_page()
    at = upload(at, CENSUS)
    [check] = _jobs(at).values()
    assert not check.done and steps                                       # running on the server
    assert any("census.csv: reading" in str(p.proto) for p in at.get("progress"))
    assert not at.dataframe and not any(b.label.startswith("Confirm") for b in at.button)
    at.button(key="upload_cancel").click().run()
    assert check.done and check.error.reason == "cancelled"
    n = len(steps)
    time.sleep(0.1)
    assert len(steps) == n                                                # stopped, not only hidden
    assert any(e.value == "Checking census.csv was cancelled. Nothing was stored." for e in at.error)
    assert not any(b.label.startswith("Confirm") and not b.disabled for b in at.button)
    assert _jobs(at) == {}
    at.run()                                                              # kept until the file changes
    assert any("was cancelled" in e.value for e in at.error) and not at.get("progress")


def test_a_check_past_the_pages_wait_is_shown_when_it_ends(app_env, monkeypatch):
    from mmicd.ui import upload as view

    monkeypatch.setattr(view, "WAIT", 0.0)
    at = open_upload_page()
    at = upload(at, CENSUS)
    [check] = _jobs(at).values() or [None]
    if check is not None:                 # (it may have ended before the page first looked)
        assert check.wait(60)
        at.run()                          # what the polling fragment does once the check has ended
    assert at.dataframe[0].value["File"].tolist() == ["census.csv"] and not at.get("progress")
    assert _jobs(at) == {}


def test_changing_the_options_cancels_the_running_check(app_env, monkeypatch):
    from mmicd.ui import upload as view

    monkeypatch.setattr(view, "WAIT", 0.0)

    def endless(uploads, *, progress, **kwargs):
        while True:
            progress(0.5, "reading")
            time.sleep(0.01)

    monkeypatch.setattr(ingest, "prepare", endless)
    at = open_upload_page()
    at = upload(at, CENSUS)
    [first] = _jobs(at).values()
    at.selectbox(key="upload_kind").set_value("census").run()
    assert first.wait(5) and first.error.reason == "cancelled"
    [second] = _jobs(at).values()
    second.cancel()
    assert second is not first and second.wait(5)


def test_the_session_check_asks_the_runtime_and_allows_a_reconnect(monkeypatch):
    """A check started on the page stops once its browser session has been gone for longer than
    SESSION_GRACE (the Check's own test shows that a False stops it)."""
    import streamlit.runtime as runtime
    import streamlit.runtime.scriptrunner as scriptrunner

    from mmicd.ui import upload as view

    class Runtime:
        active = {"s1"}

        @classmethod
        def exists(cls):
            return True

        @classmethod
        def instance(cls):
            return cls

        @classmethod
        def is_active_session(cls, session_id):
            return session_id in cls.active

    monkeypatch.setattr(runtime, "Runtime", Runtime)
    monkeypatch.setattr(scriptrunner, "get_script_run_ctx", lambda: type("Ctx", (), {"session_id": "s1"}))
    monkeypatch.setattr(view, "SESSION_GRACE", 0.2)
    alive = view.session_alive()
    assert alive()
    Runtime.active = set()                 # the browser went away
    assert alive()                         # ... maybe a reconnect: not yet
    time.sleep(0.25)
    assert not alive()
    Runtime.active = {"s1"}                # it came back
    assert alive()
    monkeypatch.setattr(runtime.Runtime, "exists", classmethod(lambda cls: False))
    assert view.session_alive() is None    # outside a Streamlit server (the command line, AppTest)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_cancel_messages_exist_in_every_language(lang):
    assert {"upload.cancel", "upload.cancel_help", "ingest.stopped.cancelled", "ingest.stopped.session",
            "ingest.file.long_line", "ingest.file.too_many_fields"} <= set(catalogue(lang))
