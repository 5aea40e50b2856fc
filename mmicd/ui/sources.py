"""Downloads of the Data sources page: the rows of the selected dataset version as CSV or JSON.

Each file is built once per dataset version, status and format (:mod:`mmicd.dataset_export`, read
from the store in pieces) and kept in one process-wide cache shared by every session, bounded in
entries and bytes: a large version is never held in several copies, and a second visitor
downloads the bytes already built. Small versions are built as the page is drawn; a large one
(over :data:`LARGE_ROWS` rows) is built when asked, with a progress bar. Who may download what is
decided by :func:`mmicd.dataset_export.may_export` (never by the page).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict

import streamlit as st

from mmicd import dataset_export
from mmicd.auth import User
from mmicd.i18n import format_number
from mmicd.model import DatasetVersion, Form
from mmicd.store import Store
from mmicd.ui import current_lang, tr

LARGE_ROWS = 50_000               # above this, the file is built on request with a progress bar
CACHE_BYTES = 384 * 1024 * 1024   # the files kept at most, in bytes (the baseline's largest CSV is ~30 MB)
CACHE_ENTRIES = 8


class ExportCache:
    """Built export files by (store URL, dataset id, status, format), least recently used dropped
    first; one build per key at a time (a second session waits for the first one's bytes)."""

    def __init__(self, max_bytes: int = CACHE_BYTES, max_entries: int = CACHE_ENTRIES):
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self._files: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            data = self._files.get(key)
            if data is not None:
                self._files.move_to_end(key)
            return data

    def build(self, key: tuple, make) -> bytes:
        """The cached bytes of ``key``, or ``make()``'s, stored."""
        with self._lock:
            lock = self._building.setdefault(key, threading.Lock())
        with lock:
            data = self.get(key)
            if data is None:
                data = make()
                with self._lock:
                    self._files[key] = data
                    self._files.move_to_end(key)
                    while len(self._files) > 1 and (len(self._files) > self.max_entries
                                                    or sum(map(len, self._files.values())) > self.max_bytes):
                        self._files.popitem(last=False)
        with self._lock:
            self._building.pop(key, None)
        return data

    def clear(self) -> None:
        with self._lock:
            self._files.clear()


CACHE = ExportCache()


def cache_key(store: Store, version: DatasetVersion, fmt: str) -> tuple:
    return (store.url, version.id, version.status.value, fmt)


def downloads(store: Store, user: User, version: DatasetVersion) -> None:
    """The CSV and JSON downloads of a version's rows, or why there are none."""
    lang = current_lang()
    st.subheader(tr("sources.download.title"))
    if not dataset_export.may_export(user, version):
        st.info(tr("sources.download.microdata_restricted" if version.form == Form.MICRODATA
                   else "sources.download.forbidden"))
        return
    what = "sources.download.caption_microdata" if version.form == Form.MICRODATA else "sources.download.caption"
    st.caption(tr(what, rows=format_number(version.rows, lang), id=version.id))
    columns = st.columns(len(dataset_export.FORMATS) + 1)
    for column, fmt in zip(columns, dataset_export.FORMATS, strict=False):
        with column:
            _download(store, version, fmt, lang)
    package = json.dumps(dataset_export.datapackage(version), ensure_ascii=False, indent=1).encode("utf-8")
    columns[-1].download_button(tr("sdmx.download.datapackage"), data=package,
                                file_name=dataset_export.file_name(version, "datapackage.json"),
                                mime="application/json", key=f"sources_download_datapackage_{version.id}",
                                icon=":material/download:", on_click="ignore", width="stretch")


def _download(store: Store, version: DatasetVersion, fmt: str, lang: str) -> None:
    key = cache_key(store, version, fmt)
    data = CACHE.get(key)
    if data is None and version.rows <= LARGE_ROWS:
        data = CACHE.build(key, lambda: dataset_export.export_bytes(store, version, fmt))
    if data is None and st.button(tr("sources.download.prepare", format=fmt.upper(),
                                     rows=format_number(version.rows, lang)),
                                  key=f"sources_prepare_{fmt}_{version.id}", icon=":material/construction:"):
        bar = st.progress(0.0, text=tr("sources.download.preparing", format=fmt.upper()))

        def progress(done: int, total: int) -> None:
            bar.progress(min(done / max(total, 1), 1.0),
                         text=tr("sources.download.progress", format=fmt.upper(), done=format_number(done, lang),
                                 total=format_number(total, lang)))

        data = CACHE.build(key, lambda: dataset_export.export_bytes(store, version, fmt, progress=progress))
        bar.empty()
    if data is not None:
        st.download_button(tr("sources.download.button", format=fmt.upper()), data=data,
                           file_name=dataset_export.file_name(version, fmt), mime=dataset_export.MEDIA_TYPES[fmt],
                           key=f"sources_download_{fmt}_{version.id}", icon=":material/download:",
                           on_click="ignore", width="stretch")
