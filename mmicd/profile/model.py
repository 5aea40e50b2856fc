"""The country profile as data: a pydantic model that is also the JSON brief.

Every block (one chart or table) holds its rows as records of codes and numbers (``None`` for a
missing value, never NaN), the sources and editions it was computed from, and translated notes.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

Scalar = str | float | int | bool | None


def clean(value: Any) -> Scalar:
    """A JSON-safe scalar: NaN and pandas NA become None, numpy numbers plain numbers."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


class SourceRef(BaseModel):
    """A dataset version a figure was computed from."""

    model_config = ConfigDict(frozen=True)
    dataset_id: int
    source: str
    edition: str
    kind: str = ""
    national: bool = Field(False, description="a national upload (scope = the country), not the international baseline")
    estimate: bool = Field(False, description="modelled or estimated values (obs_status E)")


class Block(BaseModel):
    """One chart or table of a section."""

    model_config = ConfigDict(validate_assignment=True)
    id: str
    title: str
    unit: str = ""
    columns: list[str] = Field(default_factory=list)
    rows: list[dict[str, Scalar]] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list, description="what a reader must know before using the "
                                "figures (a survey without strata or PSUs: standard errors too small)")
    empty_message: str = Field("", description="what data would fill an empty block and where to upload it")
    chart: str = Field("", description="how a block without a chart of its own is drawn: 'lines' (series over "
                       "time, one per indicator) or 'bars' (largest areas, by sex)")

    @field_validator("rows")
    @classmethod
    def _json_safe(cls, rows):
        return [{k: clean(v) for k, v in r.items()} for r in rows]

    @property
    def empty(self) -> bool:
        return not self.rows

    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self.columns or None)


class Alternative(BaseModel):
    """The other candidate for a figure (national upload vs international baseline)."""

    value: float | None = None
    year: str | None = None
    sources: list[SourceRef] = Field(default_factory=list)


class Figure(BaseModel):
    """A key figure with its change since the previous reference year."""

    model_config = ConfigDict(validate_assignment=True)
    id: str
    title: str
    unit: str
    value: float | None = None
    year: str | None = None
    previous: float | None = None
    previous_year: str | None = None
    change: float | None = None
    by_sex: dict[str, float] = Field(default_factory=dict)
    obs_status: str = ""
    sources: list[SourceRef] = Field(default_factory=list)
    national: bool = False
    choice_note: str = ""
    definition: str = Field("", description="what the figure measures, when it is not one of the fixed key figures")
    alternative: Alternative | None = None
    trend: list[dict[str, Scalar]] = Field(default_factory=list)

    @field_validator("value", "previous", "change", mode="before")
    @classmethod
    def _nan_none(cls, v):
        return clean(v)

    @property
    def available(self) -> bool:
        return self.value is not None


class Section(BaseModel):
    id: str
    title: str
    blocks: list[Block] = Field(default_factory=list)

    def block(self, block_id: str) -> Block:
        return next(b for b in self.blocks if b.id == block_id)


class CountryProfile(BaseModel):
    """A country's migration profile, in one language."""

    country: str
    name: str
    year: str | None
    parent: str = Field("", description="for a subdivision's brief (country = NP-P3): its country (NPL)")
    lang: str
    generated_at: str
    region: str = ""
    income_group: str = ""
    key_figures: list[Figure] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    dataset_ids: list[int] = Field(default_factory=list, description="published versions read")

    def figure(self, fid: str) -> Figure:
        return next(f for f in self.key_figures if f.id == fid)

    def section(self, sid: str) -> Section:
        return next(s for s in self.sections if s.id == sid)

    def block(self, block_id: str) -> Block:
        return next(b for s in self.sections for b in s.blocks if b.id == block_id)

    def sources(self) -> list[SourceRef]:
        seen: dict[int, SourceRef] = {}
        for f in self.key_figures:
            for s in f.sources:
                seen.setdefault(s.dataset_id, s)
        for sec in self.sections:
            for b in sec.blocks:
                for s in b.sources:
                    seen.setdefault(s.dataset_id, s)
        return [seen[k] for k in sorted(seen)]
