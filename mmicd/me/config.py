"""M&E settings kept as data (``data/me/config.yml``): status thresholds, grace days, IATI reporter."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import yaml

from mmicd.me.model import ME_DATA, ReportState


@dataclass(frozen=True)
class MeConfig:
    on_track: float = 0.85
    at_risk: float = 0.60
    grace_days: int = 45
    ending_soon_days: int = 180
    counted_states: frozenset[ReportState] = frozenset({ReportState.APPROVED})
    received_states: frozenset[ReportState] = frozenset({ReportState.SUBMITTED, ReportState.APPROVED})
    reporting_org: dict[str, str] = field(default_factory=dict)
    iati: dict[str, str] = field(default_factory=dict)  # sector_vocabulary_uri, budget_year_start
    # age groups of the M&E age breakdown (forms, results by age, linked statistics), codes of
    # data/codelists/age.csv
    age_groups: tuple[str, ...] = ("Y15T24", "Y25T54", "Y55T64", "Y_GE65")


@cache
def me_config() -> MeConfig:
    with open(ME_DATA / "config.yml", encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    thresholds = raw.get("thresholds", {})
    config = MeConfig(
        on_track=float(thresholds.get("on_track", 0.85)),
        at_risk=float(thresholds.get("at_risk", 0.60)),
        grace_days=int(raw.get("grace_days", 45)),
        ending_soon_days=int(raw.get("ending_soon_days", 180)),
        counted_states=frozenset(ReportState(s) for s in raw.get("counted_states", ["approved"])),
        received_states=frozenset(ReportState(s) for s in raw.get("received_states", ["submitted", "approved"])),
        reporting_org={str(k): str(v) for k, v in (raw.get("reporting_org") or {}).items()},
        iati={str(k): str(v) for k, v in (raw.get("iati") or {}).items()},
        age_groups=tuple(str(a) for a in raw.get("age_groups", MeConfig.age_groups)),
    )
    if not 0 < config.at_risk < config.on_track:
        raise ValueError("data/me/config.yml: thresholds must satisfy 0 < at_risk < on_track")
    return config
