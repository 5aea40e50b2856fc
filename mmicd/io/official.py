"""Official layouts recognised from the file itself (UN DESA, World Bank, KNOMAD, UN WPP, ILOSTAT, RPW)."""

from __future__ import annotations

from mmicd.io.layouts import Raw
from mmicd.io.read import Book


def detect(book: Book) -> list[Raw]:
    return []
