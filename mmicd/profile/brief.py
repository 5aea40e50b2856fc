"""Country briefs in four formats, chosen by the file suffix: ``.xlsx`` (a sheet per section with the
data, native Excel charts, sources and notes), ``.html`` (one self-contained file, charts inlined as
images, print stylesheet), ``.pdf`` (the same with its charts; DejaVu fonts shipped with matplotlib, so
French and Spanish accents print) and ``.json`` (the :class:`CountryProfile` model)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from mmicd.i18n import format_number, format_value, t
from mmicd.profile.model import Block, CountryProfile
from mmicd.profile.tables import display, sources_text
from mmicd.safe_export import XLSXWRITER, XlsxCells, chart_text

MIME = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "html": "text/html",
        "pdf": "application/pdf", "json": "application/json"}
MAX_ROWS = 25  # rows of a table printed in the HTML/PDF brief (the xlsx and json carry everything)
PDF_COLUMNS = 8  # columns of a table the PDF's page width holds (the HTML prints all)
Progress = Callable[[float, str], None]


def title(profile: CountryProfile) -> str:
    """'Country brief: Nepal', or for a subdivision 'Local brief: Bagmati, Nepal'."""
    return t("localbrief.title" if profile.parent else "profile.brief.title", profile.lang, area=profile.name)


def _year(profile: CountryProfile) -> str:
    return profile.year or t("profile.brief.latest", profile.lang)


def _sections(profile: CountryProfile) -> list:
    """The sections a brief prints: every core section (its empty blocks say what would fill them), the
    movements sections (flows, refugees, returns, labour migration, border) only where they hold data."""
    from mmicd.profile.movements import SECTION_IDS

    return [s for s in profile.sections if s.id not in SECTION_IDS or any(not b.empty for b in s.blocks)]


def file_name(profile: CountryProfile, fmt_: str) -> str:
    return f"brief_{profile.country}_{profile.year or 'latest'}_{profile.lang}.{fmt_}"


def export(profile: CountryProfile, path: str | Path, progress: Progress | None = None) -> Path:
    """Write the brief to ``path``; the suffix picks the format."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in MIME:
        raise ValueError(t("cli.profile.bad_suffix", profile.lang, suffix=path.suffix or "''"))
    path.write_bytes(render(profile, suffix, progress))
    return path


def render(profile: CountryProfile, fmt_: str, progress: Progress | None = None) -> bytes:
    step = progress or (lambda done, what: None)
    step(0.1, "profile")
    if fmt_ == "json":
        data = profile.model_dump_json(indent=2).encode("utf-8")
    elif fmt_ == "xlsx":
        data = _xlsx(profile, step)
    elif fmt_ in ("html", "pdf"):
        step(0.2, "charts")
        images = _images(profile, step)
        step(0.8, "file")
        data = _html(profile, images) if fmt_ == "html" else _pdf(profile, images)
    else:
        raise ValueError(t("cli.profile.bad_suffix", profile.lang, suffix=fmt_))
    step(1.0, "file")
    return data


def key_figure_rows(profile: CountryProfile) -> list[list[str]]:
    lang = profile.lang
    rows = []
    for f in profile.key_figures:
        change = "–"
        if f.change is not None:
            unit = "points" if f.unit in ("percent", "points") else f.unit
            change = t("delta.since", lang, change=("+" if f.change > 0 else "") + format_value(f.change, unit, lang),
                       year=f.previous_year)
        source = "; ".join(f"{s.source} {s.edition}" for s in f.sources) or "–"
        rows.append([f.title, format_value(f.value, f.unit, lang), f.year or "–", change, source])
    return rows


def _images(profile: CountryProfile, step: Progress) -> dict[str, bytes]:
    from mmicd.profile.static_charts import chart

    blocks = [b for s in _sections(profile) for b in s.blocks]
    out = {}
    for i, b in enumerate(blocks):
        png = chart(b, profile.lang, profile.country)
        if png:
            out[b.id] = png
        step(0.2 + 0.6 * (i + 1) / len(blocks), "charts")
    return out


def _cell(value, lang: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, bool):
        return "✓" if value else ""
    if isinstance(value, float):
        return format_number(value, lang, 0 if abs(value) >= 1000 else 1)
    if isinstance(value, int):
        return format_number(value, lang, 0)
    return str(value)


def _printable(block: Block, lang: str) -> tuple[pd.DataFrame, str]:
    """A block's table as printed in the HTML/PDF brief, and a note when rows were left out.

    At most :data:`MAX_ROWS` rows: of a table over time, the most recent periods whole (every series
    of a year kept together, e.g. remittances received and paid), in time order; of any other table
    its first rows. The note says how many rows and which years are shown; every row is in the
    xlsx and json."""
    rows = block.rows
    if block.id == "labour":  # the brief shows 15+; every age group is in the xlsx and json
        rows = [r for r in rows if r.get("age") == "_T"]
    note = ""
    if len(rows) > MAX_ROWS:
        periods = sorted({r["time_period"] for r in rows if r.get("time_period")}, reverse=True)
        if periods:
            keep, n = [], 0
            for period in periods:
                k = sum(r.get("time_period") == period for r in rows)
                if keep and n + k > MAX_ROWS:
                    break
                keep.append(period)
                n += k
            shown = [r for r in rows if r.get("time_period") in set(keep)]
            note = t("profile.brief.recent_rows", lang, shown=len(shown), rows=len(rows), first=keep[-1],
                     last=keep[0])
        else:
            shown = rows[:MAX_ROWS]
            note = t("profile.brief.first_rows", lang, shown=len(shown), rows=len(rows))
        rows = shown
    return display(block.model_copy(update={"rows": rows}), lang), note


# ---- HTML --------------------------------------------------------------------------------
CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;color:#222;max-width:60rem;margin:2rem auto;padding:0 1rem;font-size:14px}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{border-bottom:2px solid #0072B2;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1.05rem;margin-top:1.4rem} table{border-collapse:collapse;width:100%;font-size:12px;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top} th{background:#eef4fa}
img{max-width:100%;height:auto} .note{color:#555;font-size:12px;margin:.2rem 0} .empty{background:#f5f5f5;padding:.6rem}
.warning{background:#fff4e5;border-left:4px solid #D55E00;padding:.3rem .6rem;font-size:12px;margin:.3rem 0}
@media print{body{margin:0;max-width:none;font-size:11px} h2{page-break-before:auto} section,figure,table{page-break-inside:avoid}
a{color:inherit;text-decoration:none} @page{size:A4;margin:15mm}}
"""


def _html_table(frame: pd.DataFrame, lang: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v, lang))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html(profile: CountryProfile, images: dict[str, bytes]) -> bytes:
    lang = profile.lang
    esc = html.escape
    parts = [f"<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">",
             f"<title>{esc(title(profile))}</title><style>{CSS}</style></head><body>",
             f"<h1>{esc(title(profile))}</h1>",
             f"<p class=\"note\">{esc(t('profile.brief.subtitle', lang, year=_year(profile), date=profile.generated_at))}</p>"]
    if profile.key_figures:   # a subdivision's key figures are its first section, beside the national ones
        header = [t(f"profile.brief.{k}", lang) for k in ("figure", "value", "year", "change", "source")]
        parts += [f"<h2>{esc(t('profile.brief.key_figures', lang))}</h2>",
                  _html_table(pd.DataFrame(key_figure_rows(profile), columns=header), lang)]
    for section in _sections(profile):
        parts.append(f"<section><h2>{esc(section.title)}</h2>")
        for b in section.blocks:
            parts.append(f"<h3>{esc(b.title)}</h3>")
            if b.empty:
                parts.append(f"<p class=\"empty\">{esc(b.empty_message)}</p>")
                continue
            if b.id in images:
                data = base64.b64encode(images[b.id]).decode("ascii")
                parts.append(f"<figure><img alt=\"{esc(b.title)}\" src=\"data:image/png;base64,{data}\"></figure>")
            printed, cut = _printable(b, lang)
            parts.append(_html_table(printed, lang))
            if cut:
                parts.append(f"<p class=\"note\">{esc(cut)}</p>")
            parts += [f"<p class=\"warning\">{esc(line)}</p>" for line in b.warnings]
            for line in [sources_text(b, lang), *b.notes]:
                if line:
                    parts.append(f"<p class=\"note\">{esc(line)}</p>")
        parts.append("</section>")
    parts.append(f"<p class=\"note\">{esc(t('profile.brief.footer', lang))}</p></body></html>")
    return "".join(parts).encode("utf-8")


# ---- PDF ---------------------------------------------------------------------------------
def _pdf(profile: CountryProfile, images: dict[str, bytes]) -> bytes:
    import matplotlib
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    lang = profile.lang
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title(profile))
    pdf.set_creator("MMICD")
    pdf.add_page()
    width = pdf.epw

    def text(line: str, size: float = 9, style: str = "", h: float = 5) -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(width, h, line, new_x="LMARGIN", new_y="NEXT")

    def table(frame: pd.DataFrame, cut: str = "") -> None:
        pdf.set_font("DejaVu", "", 6.5)
        cols = list(frame.columns)[:PDF_COLUMNS]
        with pdf.table(width=width, line_height=3.6, headings_style=FontFace(emphasis="BOLD", fill_color=(238, 244, 250)),
                       text_align="LEFT") as tbl:
            tbl.row([str(c) for c in cols])
            for values in frame[cols].itertuples(index=False):
                tbl.row([_cell(v, lang)[:60] for v in values])
        if len(frame.columns) > PDF_COLUMNS:
            cut = " ".join(filter(None, [cut, t("profile.brief.columns_cut", lang, shown=PDF_COLUMNS,
                                                columns=len(frame.columns))]))
        if cut:
            text(cut, 7, h=3.5)
        pdf.ln(1)

    text(title(profile), 16, "B", 8)
    text(t("profile.brief.subtitle", lang, year=_year(profile), date=profile.generated_at), 8)
    pdf.ln(2)
    if profile.key_figures:
        text(t("profile.brief.key_figures", lang), 12, "B", 7)
        header = [t(f"profile.brief.{k}", lang) for k in ("figure", "value", "year", "change", "source")]
        table(pd.DataFrame(key_figure_rows(profile), columns=header))
    for section in _sections(profile):
        pdf.ln(2)
        text(section.title, 12, "B", 7)
        for b in section.blocks:
            text(b.title, 9.5, "B")
            if b.empty:
                text(b.empty_message, 8)
                continue
            if b.id in images:
                pdf.image(io.BytesIO(images[b.id]), w=width * 0.9)
            table(*_printable(b, lang))
            for line in b.warnings:
                text(line, 7.5, "B", h=3.8)
            for line in [sources_text(b, lang), *b.notes]:
                if line:
                    text(line, 7, h=3.5)
            pdf.ln(1)
    text(t("profile.brief.footer", lang), 7)
    return bytes(pdf.output())


# ---- XLSX --------------------------------------------------------------------------------
def _sheet_name(title: str, used: set[str]) -> str:
    name = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "Sheet"
    base, i = name, 2
    while name.lower() in used:
        name = f"{base[:28]} {i}"
        i += 1
    used.add(name.lower())
    return name


STYLES = {"bold": {"bold": True}, "title": {"bold": True, "font_size": 14},
          "head": {"bold": True, "bg_color": "#EEF4FA", "border": 1},
          "note": {"italic": True, "font_color": "#555555"}, "warn": {"bold": True, "font_color": "#A0400A"}}


def _xlsx(profile: CountryProfile, step: Progress) -> bytes:
    """Every cell through :class:`mmicd.safe_export.XlsxCells`: a text is a string cell, never a formula."""
    import xlsxwriter

    lang = profile.lang
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "nan_inf_to_errors": True, **XLSXWRITER})
    cells = XlsxCells(wb, STYLES)
    used: set[str] = set()

    ws = wb.add_worksheet(_sheet_name(t("profile.brief.key_figures", lang), used))
    cells.write(ws, 0, 0, title(profile), "title")
    cells.write(ws, 1, 0, t("profile.brief.subtitle", lang, year=_year(profile), date=profile.generated_at), "note")
    if profile.key_figures:
        header = [t(f"profile.brief.{k}", lang) for k in ("figure", "value", "year", "change", "source")]
        cells.write_row(ws, 3, 0, header, "head")
    for i, f in enumerate(profile.key_figures, start=4):
        cells.write_row(ws, i, 0, [f.title, f.value, f.year, f.change,
                                   "; ".join(f"{s.source} {s.edition}" for s in f.sources)])
    ws.set_column(0, 0, 42)
    ws.set_column(1, 3, 16)
    ws.set_column(4, 4, 60)

    sections = _sections(profile)
    for n, section in enumerate(sections):
        ws = wb.add_worksheet(_sheet_name(section.title, used))
        ws.set_column(0, 12, 16)
        row = 0
        cells.write(ws, row, 0, section.title, "title")
        row += 2
        for b in section.blocks:
            cells.write(ws, row, 0, b.title, "bold")
            row += 1
            if b.empty:
                cells.write(ws, row, 0, b.empty_message, "note")
                row += 2
                continue
            chart_data = _chart_table(b, lang)
            frame = display(b, lang)
            cells.write_row(ws, row, 0, list(frame.columns), "head")
            for values in frame.itertuples(index=False):
                row += 1
                cells.write_row(ws, row, 0, values)
            row += 1
            for line in b.warnings:
                cells.write(ws, row, 0, line, "warn")
                row += 1
            for line in [sources_text(b, lang), *b.notes]:
                if line:
                    cells.write(ws, row, 0, line, "note")
                    row += 1
            if chart_data is not None:
                row = _native_chart(wb, ws, cells, b, chart_data, row + 1, lang)
            row += 1
        step(0.1 + 0.8 * (n + 1) / len(sections), "file")

    ws = wb.add_worksheet(_sheet_name(t("profile.brief.sources_sheet", lang), used))
    cols = ["dataset_id", "source", "edition", "kind", "national", "estimate"]
    cells.write_row(ws, 0, 0, [t(f"profile.col.{c}", lang) if c not in ("estimate",)
                               else t("profile.label.estimate", lang) for c in cols], "head")
    for i, ref in enumerate(profile.sources(), start=1):
        cells.write_row(ws, i, 0, [ref.dataset_id, ref.source, ref.edition,
                                   t(f"kind.{ref.kind}", lang) if ref.kind else "", ref.national, ref.estimate])
    cells.write(ws, len(profile.sources()) + 2, 0, t("profile.brief.footer", lang), "note")
    ws.set_column(0, 5, 30)
    wb.close()
    return buf.getvalue()


def _chart_table(b: Block, lang: str) -> pd.DataFrame | None:
    """The wide table a native chart is drawn from (index = categories, one column per series)."""
    frame = b.frame()
    from mmicd.charts import series_label

    if b.id in ("imm_stock_trend", "imm_share_trend", "emig_trend"):
        if "origin" in frame.columns:
            frame = frame.loc[frame["origin"] == frame["origin"].iloc[0]]
        wide = frame.pivot_table(index="time_period", columns="series", values="value", aggfunc="first")
        return wide.rename(columns=lambda c: series_label(c, lang))
    if b.id in ("origins", "destinations") or b.chart == "bars":
        return frame.set_index("name")[["F", "M"]].rename(columns=lambda c: series_label(c, lang)) \
            if frame[["F", "M"]].notna().any().any() else frame.set_index("name")[["total"]]
    if b.id in ("corridors", "cost"):
        return frame.set_index("name")[["value"]].rename(columns={"value": b.title[:30]})
    if b.id == "rem_trend":
        wide = frame.pivot_table(index="time_period", columns="series", values="value", aggfunc="first")
        return wide.rename(columns=lambda c: t(f"profile.series.{c}", lang))
    if b.id == "rem_gdp":
        return frame.pivot_table(index="time_period", columns="name", values="value", aggfunc="first")
    if b.chart == "lines":
        from mmicd.profile.tables import series_name

        wide = frame.pivot_table(index="time_period", columns="series", values="value", aggfunc="first")
        return wide.rename(columns=lambda c: series_name(c, lang))
    if b.id == "labour":
        part = frame.loc[(frame["indicator"] == "lfpr") & (frame["age"] == "_T")]
        wide = part.pivot_table(index="sex", columns="migrant_status", values="value", aggfunc="first")
        wide.index = [series_label(s, lang) for s in wide.index]
        return wide.rename(columns=lambda c: series_label(c, lang))
    return None


def _native_chart(wb, ws, cells: XlsxCells, b: Block, wide: pd.DataFrame, row: int, lang: str) -> int:
    """Write the chart's data beside the block and insert a native Excel chart drawn from it."""
    if wide.empty:
        return row
    cells.write_row(ws, row, 1, [str(c) for c in wide.columns])
    for i, (idx, values) in enumerate(wide.iterrows(), start=1):
        cells.write(ws, row + i, 0, str(idx))
        for j, v in enumerate(values, start=1):
            if pd.notna(v):
                ws.write_number(row + i, j, float(v))
    n = len(wide)
    kind = {"origins": "bar", "destinations": "bar", "corridors": "bar", "cost": "bar", "labour": "column"}
    chart_type = "bar" if b.chart == "bars" else kind.get(b.id, "line")
    chart = wb.add_chart({"type": chart_type})
    sheet = ws.get_name()
    for j, col in enumerate(wide.columns, start=1):
        chart.add_series({"name": chart_text(str(col)), "categories": [sheet, row + 1, 0, row + n, 0],
                          "values": [sheet, row + 1, j, row + n, j]})
    chart.set_title({"name": chart_text(b.title)})
    unit_key = {"persons": "profile.axis.persons", "percent": "profile.axis.percent", "usd": "profile.axis.usd"}
    axis = t(unit_key.get(b.unit, "profile.axis.persons"), lang)
    if chart_type == "bar":
        chart.set_x_axis({"name": axis})
    else:
        chart.set_y_axis({"name": axis})
        chart.set_x_axis({"name": t("axis.year", lang) if b.id != "labour" else t("profile.col.sex", lang)})
    chart.set_size({"width": 720, "height": 320})
    ws.insert_chart(row, len(wide.columns) + 2, chart)
    return row + max(n + 1, 17)
