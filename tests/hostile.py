"""Hostile text planted in a store (tests of formula and Markdown injection): an intervention title, an
indicator name, a lead, a description, and user names typed at sign-in, as an attacker would."""

from __future__ import annotations

import contextlib
import csv
import io
import re

from mmicd.auth import Role, User
from mmicd.auth.accounts import SignInError, authenticate
from mmicd.me.demo import ensure_demo
from mmicd.me.repository import load_portfolio, save_indicator, save_intervention
from mmicd.safe_export import FORMULA_START
from mmicd.store import Store

ADMIN = User("root", Role.ADMIN, id=8)
# CommonMark: a backslash before ASCII punctuation is that character, literally
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def displayed(body: str) -> str:
    """What Streamlit shows for a Markdown body of escaped user text (mmicd.ui.components.plain): the
    backslash escapes resolved, the invisible word joiners that keep addresses plain left out."""
    return _ESCAPE.sub(r"\1", body).replace("\u2060", "")


def formula(beacon: str) -> str:
    return f'=HYPERLINK("{beacon}/x","y")'


def markdown(beacon: str, what: str) -> str:
    return f"![x]({beacon}/{what}-md.png)"


def html(beacon: str, what: str) -> str:
    return f'<img src="{beacon}/{what}-html.png">'


def plant(store: Store, *, title: str, indicator: str, lead: str, description: str,
          user_names: tuple[str, ...] = ()) -> tuple[str, str]:
    """The demo portfolio with its first Nepal intervention (the one the detail view opens) and its
    first indicator renamed; failed sign-ins under ``user_names`` (the audit trail records them).
    Returns the ids of the intervention and the indicator."""
    ensure_demo(store)
    p = load_portfolio(store, "NPL")
    iv = sorted(p.interventions, key=lambda i: i.id)[0]
    save_intervention(store, iv.model_copy(update={"title": title, "lead": lead, "description": description}),
                      user=ADMIN)
    ind = p.indicators_of(iv.id)[0]
    save_indicator(store, ind.model_copy(update={"name": indicator}), user=ADMIN)
    for name in user_names:
        with contextlib.suppress(SignInError):
            authenticate(store, name, "wrong password", sleep=lambda _s: None)
    return iv.id, ind.id


def csv_fields(data: bytes | str) -> list[list[str]]:
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(text)))


def unsafe_csv_fields(rows: list[list[str]]) -> list[str]:
    """Fields a spreadsheet could run as a formula: beginning with a trigger and not a number."""
    out = []
    for row in rows:
        for field in row:
            if FORMULA_START.match(field):
                try:
                    float(field)
                except ValueError:
                    out.append(field)
    return out


def unsafe_xlsx_cells(data: bytes) -> list[str]:
    """Cells of an .xlsx that are formulas, or text beginning with a trigger without the quote prefix."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    out = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    out.append(f"{ws.title}!{cell.coordinate} formula {cell.value!r}")
                elif isinstance(cell.value, str) and FORMULA_START.match(cell.value) and not cell.quotePrefix:
                    out.append(f"{ws.title}!{cell.coordinate} {cell.value!r}")
    return out


def xlsx_texts(data: bytes) -> list[str]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
