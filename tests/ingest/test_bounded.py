"""Bounded work: a pathological CSV is refused within seconds naming its line; a check runs within
its time and memory budget, can be cancelled and stops when whoever asked for it has gone; the
command line applies the same budget."""

from __future__ import annotations

import json
import threading
import time

import pytest

from mmicd import ingest
from mmicd.cli import main
from mmicd.ingest import Check, CheckStopped, Upload, prepare, run_check
from mmicd.io import read
from mmicd.io.read import MAX_FIELDS, MAX_LINE_BYTES, Book, FileProblem, check_lines

MB40 = 40 * 1024 * 1024
HEADER = b"ref_area,time_period,sex,value\n"
ROWS = b"".join(b"NPL,%d,F,%d\n" % (2000 + i % 20, i) for i in range(500))


def one_line_csv() -> bytes:
    """40 MB, one line of numbers separated by commas (7 million fields)."""
    return b"12345," * (MB40 // 6)


def cpu() -> float:
    return time.process_time()   # every thread of this process: not the machine's load


def refusal(data: bytes, name: str = "big.csv", lang: str = "en"):
    prep = prepare([Upload(name, data)], lang=lang)
    assert not prep.ok and not prep.datasets and len(prep.issues) == 1
    return prep.issues[0]


def test_a_40_mb_one_line_csv_is_refused_within_seconds_naming_the_file_and_line():
    data = one_line_csv()
    start = cpu()
    issue = refusal(data)
    assert cpu() - start < 5     # it ran past 300 s before
    assert (issue.file, issue.row) == ("big.csv", 1)
    assert issue.message.startswith(f"Line 1 is longer than {MAX_LINE_BYTES} characters")
    assert refusal(data, lang="fr").message.startswith(f"La ligne 1 dépasse {MAX_LINE_BYTES} caractères")


def test_one_enormous_line_among_normal_ones_is_named_by_its_number():
    data = HEADER + ROWS + b"NPL,2021,F," + b"9" * MB40 + b"\n" + ROWS
    start = cpu()
    issue = refusal(data)
    assert cpu() - start < 5
    assert issue.row == 502 and "Line 502 " in issue.message    # header, 500 rows, then it
    crlf = data.replace(b"\n", b"\r\n")                         # CRLF counts one line per CRLF
    assert refusal(crlf).row == 502


def test_a_line_with_more_fields_than_a_spreadsheet_has_columns_is_refused():
    wide = b",".join([b"1"] * (MAX_FIELDS + 1))                # 32 kB: short enough, too many fields
    issue = refusal(HEADER + ROWS[:40] + wide + b"\n" + ROWS)
    assert issue.row == 5 and f"holds {MAX_FIELDS + 1} fields" in issue.message


def _book(data: bytes) -> Book:
    return Book("f.csv", data, "csv")


@pytest.mark.parametrize("scan", [read._SCAN_BYTES, 1000, 7])   # lines across the pieces scanned
def test_the_line_limits_are_exact(monkeypatch, scan):
    monkeypatch.setattr(read, "_SCAN_BYTES", scan)
    at_limit = b"a" * MAX_LINE_BYTES
    check_lines(_book(HEADER + at_limit + b"\n" + ROWS))           # at the limit: read
    check_lines(_book(HEADER + ROWS + at_limit))                    # last line without its end too
    for data, line in [(HEADER + at_limit + b"a\n" + ROWS, 2), (HEADER + ROWS + at_limit + b"a", 502),
                       (b"a\rb\r" + at_limit + b"a\r", 3)]:          # old Mac line ends
        with pytest.raises(FileProblem) as got:
            check_lines(_book(data))
        assert got.value.key == "ingest.file.long_line" and got.value.fields["line"] == line
    fields = b",".join([b"1"] * MAX_FIELDS)
    check_lines(_book(HEADER + fields + b"\n" + fields))           # as many fields as allowed
    with pytest.raises(FileProblem) as got:
        check_lines(_book(HEADER + fields + b"\n" + fields + b",1"))
    assert got.value.key == "ingest.file.too_many_fields" and got.value.fields == {
        "line": 3, "n": MAX_FIELDS + 1, "limit": MAX_FIELDS}
    semicolons = b"a;b\n" + fields + b";1\n" + b"x;y\n" * 60      # commas are no fields when ';' separates
    check_lines(_book(semicolons))


def test_the_command_line_refuses_the_one_line_csv_fast(tmp_path, monkeypatch, capsys, store_url):
    monkeypatch.setenv("MMICD_DATABASE_URL", store_url)
    monkeypatch.setenv("MMICD_DATA_DIR", str(tmp_path / "cli"))
    path = tmp_path / "oneline.csv"
    path.write_bytes(one_line_csv())
    start = cpu()
    assert main(["ingest", str(path), "--dry-run", "--json"]) == 2
    assert cpu() - start < 5
    [issue] = json.loads(capsys.readouterr().out)["issues"]
    assert (issue["file"], issue["row"]) == ("oneline.csv", 1) and "longer than" in issue["message"]


def test_the_command_line_applies_the_time_budget(tmp_path, monkeypatch, capsys, store_url):
    monkeypatch.setenv("MMICD_DATABASE_URL", store_url)
    monkeypatch.setenv("MMICD_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("MMICD_CHECK_SECONDS", "0.2")
    real = ingest._prepare_one

    def slow(*args, **kwargs):
        time.sleep(0.5)                   # a slow file: the progress call after it stops the check
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "_prepare_one", slow)
    path = tmp_path / "census.csv"
    path.write_bytes(HEADER + ROWS)
    assert main(["ingest", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "Checking census.csv was stopped after 0.2 seconds" in err and "MMICD_CHECK_SECONDS" in err


# ---- the mechanism: a check in a thread of its own -------------------------------------------------
def stepping(steps: list, release: threading.Event | None = None):
    """Work that reports progress every 10 ms, forever (or until ``release``)."""
    def work(progress):
        n = 0
        while release is None or not release.is_set():
            progress(min(n / 100, 1.0), "reading")
            steps.append(n)
            n += 1
            time.sleep(0.01)
        return "finished"
    return work


def busy(progress):
    """Work that never reports progress again once started: a long step in Python."""
    progress(0.0, "reading")
    n = 0
    while True:
        n += 1


def test_a_check_runs_in_its_own_thread_with_its_progress_readable():
    release, steps = threading.Event(), []
    check = Check(stepping(steps, release), seconds=60)
    time.sleep(0.2)
    assert not check.done and steps and check.message == "reading" and 0 < check.fraction <= 1
    release.set()
    assert check.wait(5) and check.result == "finished" and check.error is None


def test_cancel_stops_a_running_check_at_its_next_progress_call():
    steps = []
    check = Check(stepping(steps), seconds=60)
    time.sleep(0.2)
    check.cancel()
    assert check.wait(2)
    assert isinstance(check.error, CheckStopped) and check.error.reason == "cancelled"
    n = len(steps)
    time.sleep(0.1)
    assert len(steps) == n and check.result is None     # nothing ran after it


def test_cancel_interrupts_a_long_step_without_progress_calls():
    check = Check(busy, seconds=60)
    time.sleep(0.2)
    check.cancel()
    assert check.wait(Check.GRACE + 3)
    assert isinstance(check.error, CheckStopped) and check.error.reason == "cancelled"


def test_the_time_budget_stops_a_long_step_within_a_grace():
    start = time.monotonic()
    check = Check(busy, seconds=0.3)
    assert check.wait(0.3 + Check.GRACE + 3)
    assert time.monotonic() - start < 0.3 + Check.GRACE + 2
    assert (check.error.reason, check.error.limit) == ("time", 0.3)


def test_the_memory_budget_stops_a_check(monkeypatch):
    rss = [100.0]
    monkeypatch.setattr(ingest, "_resident_mb", lambda: rss[0])
    steps = []
    check = Check(stepping(steps), megabytes=500)
    time.sleep(0.1)
    assert not check.done
    rss[0] = 650.0                                         # the check has grown the server by 550 MB
    assert check.wait(2)
    assert (check.error.reason, check.error.limit) == ("memory", 500)


def test_a_check_stops_when_its_session_has_gone():
    alive = threading.Event()
    alive.set()
    steps = []
    check = Check(stepping(steps), seconds=60, alive=alive.is_set)
    time.sleep(0.1)
    assert not check.done
    alive.clear()                                          # the browser closed
    assert check.wait(2) and check.error.reason == "session"
    check = Check(busy, seconds=60, alive=alive.is_set)    # ... even in a long step
    assert check.wait(Check.GRACE + 3) and check.error.reason == "session"


def test_a_stopped_prepare_names_its_file_in_the_users_language():
    def work(progress):
        def slow(fraction, phase):
            time.sleep(0.05)
            progress(fraction, phase)
        return prepare([Upload("a.csv", HEADER + ROWS), Upload("b.csv", HEADER + ROWS)], progress=slow)

    with pytest.raises(CheckStopped) as stop:
        run_check(work, seconds=0.2)
    assert stop.value.file == "a.csv"
    assert stop.value.message("fr") == ("La vérification de a.csv a été arrêtée après 0,2 seconde, le temps "
                                        "permis (MMICD_CHECK_SECONDS). Rien n'a été enregistré.")


def test_a_failing_check_hands_its_error_over():
    def work(progress):
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_check(work, seconds=5)


def test_the_budget_stops_a_real_long_step_of_the_ingestion(monkeypatch):
    """With the line limits lifted, an 8 MB one-line CSV keeps the ingestion for minutes in one step
    without a progress call (1.4 million columns matched against the synonyms): the watchdog stops it
    all the same, within its grace, naming the file."""
    monkeypatch.setattr(read, "MAX_LINE_BYTES", 1 << 30)
    monkeypatch.setattr(read, "MAX_FIELDS", 1 << 30)
    data = b"12345," * ((8 << 20) // 6)
    start = time.monotonic()
    with pytest.raises(CheckStopped) as stop:
        run_check(lambda progress: prepare([Upload("one.csv", data)], progress=progress), seconds=1)
    assert time.monotonic() - start < 1 + Check.GRACE + 5
    assert (stop.value.reason, stop.value.file) == ("time", "one.csv")


def test_sniffing_the_delimiter_is_bounded_and_reads_wide_lines():
    """Python's csv.Sniffer takes 28 s on one 64 kB line of ',"a' (time in the square of the line):
    it only sees lines within SNIFF_COST; longer lines go by the steadiest delimiter."""
    quotes = b',"a' * 21_000
    start = cpu()
    assert _book(quotes).delimiter == ","
    issue = refusal(b"a,b\n" + quotes + b"\n")                      # the whole check, not only the sniffing
    assert cpu() - start < 5 and issue.level == "error"
    def wide(sep: str, cell: str) -> bytes:
        return "\n".join(sep.join(["Name, first"] + [cell.format(i) for i in range(2000)]) for _ in range(20)).encode()

    assert _book(wide(";", "{},5")).delimiter == ";"    # as many decimal commas as semicolons: not the comma
    assert _book(wide("\t", "{},5")).delimiter == "\t"
    assert _book(wide(",", "{}.5")).delimiter == ","
    assert _book(b"a;b;c\n1,5;2;3\n" * 20).delimiter == ";"       # short lines: csv.Sniffer as before
