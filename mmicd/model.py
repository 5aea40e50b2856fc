"""The canonical data model.

Observations are tidy and long: one row per value, SDMX-style dimension columns holding codes
(``_T`` for a total, never a blank), then the value and its attributes. ``value`` is always in base
units (persons, US dollars); ``unit_mult`` records the multiplier the source published in (3 =
thousands, 6 = millions) for display and export only. Source, edition and version of every value
live on its :class:`DatasetVersion`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from mmicd import codes
from mmicd.issues import Issue, IssuesError

DIMENSIONS = [
    "measure",
    "ref_area",
    "time_period",
    "sex",
    "age",
    "migrant_status",
    "counterpart_area",
    "labour_status",
    "breakdown",
]
ATTRIBUTES = ["unit_measure", "unit_mult", "obs_status"]
OBS_COLUMNS = [*DIMENSIONS, "value", *ATTRIBUTES]

# dimension -> code list that closes it (ref_area and counterpart_area also accept _T)
DIMENSION_CODELISTS = {
    "measure": "measure",
    "ref_area": "areas",
    "sex": "sex",
    "age": "age",
    "migrant_status": "migrant_status",
    "counterpart_area": "areas",
    "labour_status": "labour_status",
}
TIME_PERIOD_PATTERN = r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$"
# the checks of a canonical frame are declared once, in mmicd/rules.py (used by the upload and the store)


# Survey microdata (one row per person), stored as a Parquet file beside its dataset version.
# ``age`` is in completed years (nullable integer), ``weight`` > 0; ``stratum`` and ``psu`` are
# optional design variables (text; empty when the survey has none). The text columns
# (:data:`MICRODATA_TEXT`) are pandas categoricals: integer codes into their sorted distinct texts,
# stored by Parquet as dictionary columns and read back as categoricals, so the engine groups
# persons by the codes without re-encoding ten million strings (``==``, ``isin``, ``astype(str)``
# behave as on text; ``pd.concat`` of frames with different categories gives text, which
# :func:`normalise_microdata` codes again).
MICRODATA_COLUMNS = [
    "ref_area",
    "time_period",
    "sex",
    "age",
    "migrant_status",
    "labour_status",
    "weight",
    "stratum",
    "psu",
]
MICRODATA_TEXT = [c for c in MICRODATA_COLUMNS if c not in ("age", "weight")]
DESIGN_COLUMNS = ("stratum", "psu")  # may be empty ('') when the survey has no such variable
# coded microdata column -> code list (``_U`` is also accepted: survey answers may be unknown)
MICRODATA_CODELISTS = {
    "sex": "sex",
    "migrant_status": "migrant_status",
    "labour_status": "labour_status",
    "ref_area": "areas",
}


class Form(StrEnum):
    OBSERVATIONS = "observations"
    MICRODATA = "microdata"


class Kind(StrEnum):
    MIGRANT_STOCK = "migrant_stock"
    POPULATION = "population"
    REMITTANCES = "remittances"
    REMITTANCE_CORRIDORS = "remittance_corridors"
    CENSUS = "census"
    LFS = "lfs"
    INTERVENTIONS = "interventions"
    MIGRATION_FLOWS = "migration_flows"
    REFUGEES = "refugees"
    BORDER_MOVEMENTS = "border_movements"
    LABOUR_MIGRATION = "labour_migration"


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


class DatasetMeta(BaseModel):
    """What a load declares about itself. Unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind
    source: str = Field(min_length=1)
    edition: str = ""
    scope: str = Field(default="_ALL", description="ISO3 of the country the data is about, or _ALL")
    title: str = ""
    basis: str = ""
    file_name: str = ""
    sha256: str = ""
    licence: str = ""
    url: str = ""
    provenance: str = ""
    notes: str = ""


class DatasetVersion(DatasetMeta):
    """A stored version of a dataset: nothing is overwritten, every load is a new version."""

    id: int
    version: int
    status: Status
    rows: int
    form: Form = Form.OBSERVATIONS
    storage: str = ""
    loaded_by: str
    created_at: datetime
    status_changed_at: datetime | None = None
    status_changed_by: str | None = None
    status_note: str = ""

    @property
    def series(self) -> tuple[str, str, str]:
        """Versions of one series supersede each other: same kind, scope (country) and source."""
        return (self.kind.value, self.scope, self.source)


def normalise_observations(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` in canonical shape: every column, dimensions as text, ``_T`` for blanks."""
    out = frame.copy()
    for col in DIMENSIONS:
        if col not in out.columns:
            out[col] = codes.TOTAL
        out[col] = out[col].astype("string").fillna(codes.TOTAL).str.strip().replace("", codes.TOTAL)
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    if "unit_measure" not in out.columns:
        units = codes.codelist("measure")["unit_measure"]
        out["unit_measure"] = out["measure"].map(units)
    out["unit_measure"] = out["unit_measure"].astype("string").fillna("")
    mult = out["unit_mult"] if "unit_mult" in out.columns else pd.Series(0, index=out.index)
    out["unit_mult"] = pd.to_numeric(mult, errors="coerce").fillna(0).astype("int64")
    status = out["obs_status"] if "obs_status" in out.columns else pd.Series("A", index=out.index)
    out["obs_status"] = status.astype("string").fillna("A").replace("", "A")
    return out[OBS_COLUMNS].reset_index(drop=True)


def check_observations(frame: pd.DataFrame, file: str | None = None, *, lang: str = "en",
                       projections: bool = True, errors_only: bool = False) -> list[Issue]:
    """Every problem of a canonical frame at once, by the rules of :mod:`mmicd.rules` (the upload's
    rules): issues name dataset rows (1-based) and canonical values, in ``lang``.

    ``projections``: years after next year are accepted when marked ``E`` (the upload marks a
    file's projections so when the person loading declares them; see :class:`mmicd.rules.Params`).
    """
    from mmicd import rules

    return rules.issues(frame, "observations", file=file, lang=lang, params=rules.Params(projections=projections),
                        errors_only=errors_only)


def validated(frame: pd.DataFrame, file: str | None = None, *, lang: str = "en",
              projections: bool = True) -> pd.DataFrame:
    """Normalise and check; raise :class:`IssuesError` with every error found."""
    canonical = normalise_observations(frame)
    errors = [i for i in check_observations(canonical, file, lang=lang, projections=projections, errors_only=True)
              if i.level == "error"]
    if errors:
        raise IssuesError(errors)
    return canonical


def normalise_microdata(frame: pd.DataFrame) -> pd.DataFrame:
    """Microdata in canonical shape: text columns as categoricals of stripped texts (``_U`` for a
    blank code, ``''`` for a blank stratum or PSU), age as nullable integer, weight as float."""
    out = pd.DataFrame(index=frame.index)
    for col in MICRODATA_TEXT:
        default = "" if col in DESIGN_COLUMNS else codes.UNKNOWN
        out[col] = coded(frame[col], default) if col in frame.columns else \
            pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), categories=pd.Index([default], dtype="str"))
    out["age"] = pd.to_numeric(frame.get("age"), errors="coerce").astype("Int64") if "age" in frame else pd.NA
    out["weight"] = pd.to_numeric(frame["weight"], errors="coerce").astype("float64") if "weight" in frame \
        else 1.0
    return out[MICRODATA_COLUMNS].reset_index(drop=True)


def coded(values: pd.Series, default: str) -> pd.Categorical:
    """``values`` as text, stripped, blank or missing as ``default``, in a categorical whose categories
    are the sorted distinct texts present. Each distinct value is converted once, never each row."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        index, uniques = values.cat.codes.to_numpy(), values.cat.categories
    else:
        index, uniques = pd.factorize(values)  # a missing value is -1
    texts = pd.Index(uniques).astype("string").str.strip().fillna(default).tolist() + [default]  # -1: last
    texts = [t or default for t in texts]
    present = np.bincount(index.astype(np.intp) + 1, minlength=len(texts))  # (shifted: -1 first)
    used = sorted({texts[i - 1] for i in np.flatnonzero(present)})
    position = {t: i for i, t in enumerate(used)}
    remap = np.array([position.get(t, 0) for t in texts], dtype=np.int32)
    return pd.Categorical.from_codes(remap[index], categories=pd.Index(used, dtype="str"))


def canonical_microdata_types(frame: pd.DataFrame) -> bool:
    """The canonical microdata columns of ``frame`` hold what :func:`normalise_microdata` makes of
    them (normalising again would give the same values and types; unused or unsorted categories
    may remain): text columns categoricals of stripped, non-blank texts (a stratum or PSU may be
    ``''``) with no missing value, age ``Int64``, weight ``float64``."""
    if str(frame["age"].dtype) != "Int64" or str(frame["weight"].dtype) != "float64":
        return False
    for col in MICRODATA_TEXT:
        dtype = frame[col].dtype
        if not isinstance(dtype, pd.CategoricalDtype) or not isinstance(dtype.categories.dtype, pd.StringDtype):
            return False
        cats = dtype.categories
        if (cats != cats.str.strip()).any() or (col not in DESIGN_COLUMNS and (cats == "").any()) \
                or frame[col].hasnans:
            return False
    return True


def check_microdata(frame: pd.DataFrame, file: str | None = None, *, lang: str = "en") -> list[Issue]:
    """Every problem of canonical microdata at once (row numbers are 1-based data rows)."""
    from mmicd import rules

    return rules.issues(frame, "microdata", file=file, lang=lang, params=rules.Params(unknown_ok=True))
