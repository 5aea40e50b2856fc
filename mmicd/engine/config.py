"""Engine settings: reliability thresholds and tolerances are configuration, not code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineConfig:
    # survey estimates: publish flagged U above cv_flag %, suppress (Q) above cv_suppress % or
    # below min_n unweighted cases (Statistics Canada CV bands 16.5 / 33.3; NCHS 30 cases)
    cv_flag: float = 16.5
    cv_suppress: float = 33.3
    min_n: int = 30
    # counts from tables of these kinds below small_cell persons are suppressed (Q) in published views
    small_cell: float = 5.0
    small_cell_kinds: tuple[str, ...] = ("census", "lfs")
    # reported total vs sum of parts: an Issue when both differences exceed these
    tolerance_abs: float = 1.0
    tolerance_rel: float = 1e-6
    z: float = 1.959963984540054  # two-sided 95% normal quantile
    suppress: bool = True  # blank the value, SE and CI of suppressed (Q) cells
    max_issues: int = 200


DEFAULT = EngineConfig()
