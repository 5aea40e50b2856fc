"""Data availability and quality: what exists for which years and sources, what is missing, what is
flagged or suppressed, and where a national upload and the international baseline disagree."""

from __future__ import annotations

import pandas as pd

from mmicd import codes
from mmicd.i18n import t
from mmicd.model import DatasetVersion
from mmicd.profile.model import Block, Figure, Section, SourceRef

FLAGS = ("E", "U", "Q", "M", "P", "I")
# checklist: item -> (how to test the section blocks / figures, the upload template that fills it)
CHECKLIST = (
    ("pop_total", "figure", "census"),
    ("imm_stock", "figure", "census"),
    ("origins", "block", "census"),
    ("pyramid", "block", "census"),
    ("emig_stock", "figure", "stocks"),
    ("rem_in_usd", "figure", "remittances"),
    ("rem_trend", "block", "remittances"),
    ("rem_in_gdp", "figure", "remittances"),
    ("corridors", "block", "remittances"),
    ("cost", "block", "remittances"),
    ("labour", "block", "lfs"),
    ("flows_trend", "block", "flows"),
    ("refugees_trend", "block", "refugees"),
    ("returns_trend", "block", "returns"),
    ("labour_trend", "block", "labour"),
    ("border_trend", "block", "border"),
)


def _availability(inp, versions: dict[int, DatasetVersion], labour: Block, lang: str) -> Block:
    frames = [f for f in (inp.own, inp.abroad) if not f.empty]
    rows = []
    if frames:
        obs = pd.concat(frames, ignore_index=True)
        obs["dataset_id"] = obs["dataset_id"].astype(int)
        for (ds, measure), g in obs.groupby(["dataset_id", "measure"]):
            v = versions.get(ds)
            if v is None:
                continue
            years = sorted(g["time_period"].unique())
            flagged = ", ".join(f"{f}: {n}" for f in FLAGS if (n := int((g["obs_status"] == f).sum())))
            rows.append({"item": t(f"profile.measure.{measure}", lang) if measure in ("POP", "REM_IN", "REM_OUT",
                                                                                      "GDP", "NET_MIG")
                         else codes.label("measure", measure, lang), "kind": t(f"kind.{v.kind.value}", lang), "source": v.source,
                         "edition": v.edition, "dataset_id": ds, "national": v.scope != "_ALL",
                         "first": years[0], "last": years[-1], "years": len(years), "values": len(g),
                         "flagged": flagged})
    if not labour.empty:
        frame = labour.frame()
        for ref in labour.sources:
            flagged = ", ".join(f"{f}: {n}" for f in FLAGS if (n := int((frame["obs_status"] == f).sum())))
            years = sorted(frame["time_period"].unique())
            rows.append({"item": t("profile.block.labour", lang), "kind": t(f"kind.{ref.kind}", lang),
                         "source": ref.source, "edition": ref.edition, "dataset_id": ref.dataset_id,
                         "national": ref.national, "first": years[0], "last": years[-1], "years": len(years),
                         "values": len(frame), "flagged": flagged})
    refs = [SourceRef(dataset_id=r["dataset_id"], source=r["source"], edition=r["edition"], national=r["national"])
            for r in rows]
    return Block(id="availability", title=t("profile.block.availability", lang),
                 columns=["item", "kind", "source", "edition", "dataset_id", "national", "first", "last", "years",
                          "values", "flagged"], rows=rows, sources=list({r.dataset_id: r for r in refs}.values()),
                 notes=[t("profile.note.flags", lang)], empty_message=t("profile.empty.availability", lang))


def _missing(figures: list[Figure], sections: list[Section], lang: str) -> Block:
    figs = {f.id: f for f in figures}
    blocks = {b.id: b for s in sections for b in s.blocks}
    rows = []
    for item, how, template in CHECKLIST:
        present = figs[item].available if how == "figure" else not blocks[item].empty
        if not present:
            rows.append({"item": figs[item].title if how == "figure" else blocks[item].title,
                         "template": t(f"profile.template.{template}", lang)})
    return Block(id="missing", title=t("profile.block.missing", lang), columns=["item", "template"], rows=rows,
                 notes=[t("profile.note.missing", lang)], empty_message=t("profile.empty.missing", lang))


def _disagree(figures: list[Figure], lang: str) -> Block:
    rows = []
    for f in figures:
        alt = f.alternative
        if not f.available or alt is None or alt.value is None:
            continue
        nat_first = f.national
        a_val, a_year, a_src = f.value, f.year, f.sources
        b_val, b_year, b_src = alt.value, alt.year, alt.sources
        if not nat_first and any(s.national for s in b_src):
            a_val, a_year, a_src, b_val, b_year, b_src = b_val, b_year, b_src, a_val, a_year, a_src
        if not any(s.national for s in a_src):
            continue
        diff = (a_val - b_val) / b_val * 100 if b_val else None
        rows.append({"figure": f.title, "unit": f.unit, "national": a_val, "national_year": a_year,
                     "national_source": "; ".join(f"{s.source} {s.edition}" for s in a_src),
                     "international": b_val, "international_year": b_year,
                     "international_source": "; ".join(f"{s.source} {s.edition}" for s in b_src),
                     "difference_pct": diff, "chosen": "national" if f.national else "international"})
    return Block(id="disagree", title=t("profile.block.disagree", lang),
                 columns=["figure", "unit", "national", "national_year", "national_source", "international",
                          "international_year", "international_source", "difference_pct", "chosen"],
                 rows=rows, notes=[t("profile.note.disagree", lang)], empty_message=t("profile.empty.disagree", lang))


def section(inp, figures: list[Figure], sections: list[Section], year: str | None, lang: str) -> Section:
    labour = next(b for s in sections for b in s.blocks if b.id == "labour")
    blocks = [_availability(inp, inp.versions, labour, lang), _missing(figures, sections, lang),
              _disagree(figures, lang)]
    return Section(id="quality", title=t("profile.section.quality", lang), blocks=blocks)
