"""The indicator catalogue: one YAML file per indicator in ``indicators/``, schema-checked.

Unknown keys are rejected (``extra="forbid"``); a selection names dimensions of the canonical
observations / microdata and the codes it keeps. ``age`` in a selection is a *range*: the rows or
persons whose age lies within the named age code(s) (``Y_GE15`` = 15 and over).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mmicd import ROOT, codes
from mmicd.issues import Issue, IssuesError
from mmicd.model import Form, Kind

CATALOGUE_DIR = ROOT / "indicators"
TYPES = ("count", "share", "ratio", "rate", "difference", "growth", "median", "passthrough")
DISAGGREGATIONS = ("sex", "age", "migrant_status", "counterpart_area")
SELECTABLE = {
    "measure": "measure",
    "sex": "sex",
    "age": "age",
    "migrant_status": "migrant_status",
    "labour_status": "labour_status",
    "counterpart_area": "areas",
    "breakdown": "breakdown",
}
UNITS = ("persons", "percent", "usd", "years", "percent_per_year", "per_1000", "per_100000")


class Text(BaseModel):
    """A text in the three languages of the app."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    en: str = Field(min_length=1)
    fr: str = Field(min_length=1)
    es: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return getattr(self, lang, None) or self.en


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: Text
    definition: Text
    sdg: str | None = Field(default=None, description="SDG indicator/target, e.g. 10.7.1 or 17.3.2")
    kinds: tuple[Kind, ...] = Field(min_length=1, description="dataset kinds read")
    forms: tuple[Form, ...] = (Form.OBSERVATIONS,)
    type: Literal["count", "share", "ratio", "rate", "difference", "growth", "median", "passthrough"]
    numerator: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    denominator: dict[str, tuple[str, ...]] | None = None
    minus: dict[str, tuple[str, ...]] | None = Field(
        default=None, description="difference: the selection subtracted from the numerator (same dataset version)")
    denominator_kinds: tuple[Kind, ...] = Field(
        default=(), description="share/ratio/rate: the denominator is read from datasets of these kinds (same "
                                "area and year), chosen by the rule of indicators/README.md")
    series: str | None = Field(default=None, description="SDG series code (SM_POP_REFG_OR)")
    base: str | None = Field(default=None, description="growth/median: the count indicator it is computed from")
    factor: float = 1.0
    unit: Literal["persons", "percent", "usd", "years", "percent_per_year", "per_1000", "per_100000"]
    disaggregations: tuple[Literal["sex", "age", "migrant_status", "counterpart_area"], ...] = ()
    areas_from: Literal["ref_area", "counterpart_area"] = Field(
        default="ref_area", description="counterpart_area: the country is the counterpart (emigrants)")
    obs_status: str | None = Field(default=None, description="status forced on every value (E = modelled)")
    direction: Literal["higher_is_better", "lower_is_better", "neutral"] = "neutral"
    target: float | None = None
    notes: str = ""
    draft: bool = False

    @field_validator("numerator", "denominator", "minus", mode="before")
    @classmethod
    def _codes_as_tuples(cls, value):
        if value is None:
            return None
        return {k: (v,) if isinstance(v, str) else tuple(v) for k, v in dict(value).items()}

    @model_validator(mode="after")
    def _consistent(self):
        for which in ("numerator", "denominator", "minus"):
            sel = getattr(self, which) or {}
            for dim, values in sel.items():
                if dim not in SELECTABLE:
                    raise ValueError(f"{which}: unknown dimension '{dim}'")
                if dim == "breakdown":  # TYPE:CODE of the breakdown code list (OUTCOME:REC)
                    bad = [v for v in values if not codes.breakdown_ok(v)]
                else:
                    allowed = codes.codes(SELECTABLE[dim]) | {codes.TOTAL}
                    bad = [v for v in values if v not in allowed]
                if bad:
                    raise ValueError(f"{which}.{dim}: unknown code(s) {bad}")
        if self.type in ("share", "ratio", "rate") and self.denominator is None:
            raise ValueError(f"type {self.type} needs a denominator")
        if self.type in ("growth", "median") and not self.base:
            raise ValueError(f"type {self.type} needs a base indicator")
        if self.type in ("count", "passthrough", "difference") and self.denominator is not None:
            raise ValueError(f"type {self.type} takes no denominator")
        if (self.type == "difference") != (self.minus is not None):
            raise ValueError("type difference needs 'minus' (and only it takes one)")
        if self.denominator_kinds and self.type not in ("share", "ratio", "rate"):
            raise ValueError(f"type {self.type} takes no denominator_kinds")
        if self.obs_status is not None and self.obs_status not in codes.codes("obs_status"):
            raise ValueError(f"unknown obs_status '{self.obs_status}'")
        return self


def load_file(path: Path) -> Indicator:
    """One indicator from its YAML file; an invalid file raises :class:`IssuesError` naming it."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        ind = Indicator.model_validate(data)
    except (yaml.YAMLError, ValueError) as exc:
        raise IssuesError([Issue("error", f"invalid indicator definition: {exc}", file=str(path))]) from exc
    if ind.id != path.stem:
        raise IssuesError([Issue("error", f"id '{ind.id}' differs from the file name", file=str(path),
                                 column="id", value=ind.id)])
    return ind


@cache
def catalogue(directory: Path = CATALOGUE_DIR) -> dict[str, Indicator]:
    """Every indicator of the catalogue, by id, in file-name order; bases checked."""
    found = {p.stem: load_file(p) for p in sorted(Path(directory).glob("*.yml"))}
    problems = [
        Issue("error", f"base '{ind.base}' is not in the catalogue", file=f"{ind.id}.yml", column="base")
        for ind in found.values() if ind.base and ind.base not in found
    ]
    if problems:
        raise IssuesError(problems)
    return found
