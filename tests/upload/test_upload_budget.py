"""The upload page's check runs within a time and memory budget and stops on the server past it; the
workbook with every problem marked is built only when asked for."""

from __future__ import annotations

import io

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
