"""Fixtures for the engine tests: small hand-made tables and generated survey microdata in a store."""

from __future__ import annotations

import pandas as pd
import pytest

from mmicd.engine.synthetic import lfs_microdata
from mmicd.model import DatasetMeta, Kind, Status


def obs(rows: list[dict], dataset_id: int = 1, source: str = "Test", edition: str = "1", kind: str = "migrant_stock",
        measure: str = "POP") -> pd.DataFrame:
    """Observations with provenance columns, as Store.observations returns them (totals by default)."""
    frame = pd.DataFrame(rows)
    defaults = {"measure": measure, "ref_area": "NPL", "time_period": "2020", "sex": "_T", "age": "_T",
                "migrant_status": "_T", "counterpart_area": "_T", "labour_status": "_T", "obs_status": "A"}
    for col, value in defaults.items():
        frame[col] = frame[col].fillna(value) if col in frame.columns else value
    frame["value"] = frame["value"].astype(float)
    return frame.assign(dataset_id=dataset_id, source=source, edition=edition, kind=kind)


@pytest.fixture(scope="session")
def lfs() -> pd.DataFrame:
    """8,000 generated LFS person records, 10 strata, 80 PSUs (deterministic)."""
    return lfs_microdata(8_000, strata=10, psus=80, seed=11)


@pytest.fixture
def demo_store(store, lfs):
    """A store with published test data for every catalogue indicator's kind."""
    store.add_microdata(DatasetMeta(kind=Kind.LFS, source="Test LFS", edition="2022", scope="NPL"), lfs,
                        actor="test", status=Status.PUBLISHED)
    stock = []
    for year, scale in (("2015", 1.0), ("2020", 1.2)):
        for sex, share in (("F", 0.45), ("M", 0.55)):
            for i, age in enumerate(["Y0T4", "Y5T9", "Y10T14", "Y15T19", "Y20T24", "Y25T29", "Y30T34", "Y35T39",
                                     "Y40T44", "Y45T49", "Y50T54", "Y55T59", "Y60T64", "Y65T69", "Y70T74",
                                     "Y_GE75"]):
                stock.append({"time_period": year, "sex": sex, "age": age, "migrant_status": "MS_MIGRANT",
                              "value": round(scale * share * (1000 + 150 * i - 9 * i * i))})
            stock.append({"time_period": year, "sex": sex, "migrant_status": "MS_MIGRANT", "counterpart_area": "IND",
                          "value": round(scale * share * 9000)})
            stock.append({"time_period": year, "sex": sex, "value": round(scale * share * 400000)})
    census = obs(stock, kind="census")
    store.add_dataset(DatasetMeta(kind=Kind.CENSUS, source="Test census", edition="2021", scope="NPL"),
                      census.drop(columns=["dataset_id", "source", "edition", "kind"]), actor="test",
                      status=Status.PUBLISHED)
    abroad = obs([{"ref_area": "QAT", "counterpart_area": "NPL", "migrant_status": "MS_MIGRANT", "sex": s, "value": v}
                  for s, v in (("F", 1200), ("M", 30000))])
    store.add_dataset(DatasetMeta(kind=Kind.MIGRANT_STOCK, source="Test stock", edition="2020"),
                      abroad.drop(columns=["dataset_id", "source", "edition", "kind"]), actor="test",
                      status=Status.PUBLISHED)
    pop = obs([{"sex": s, "age": a, "value": v} for s, a, v in
               (("F", "Y0T4", 10), ("F", "Y5T9", 20), ("M", "Y0T4", 11), ("M", "Y5T9", 19))], kind="population")
    store.add_dataset(DatasetMeta(kind=Kind.POPULATION, source="Test WPP", edition="2024"),
                      pop.drop(columns=["dataset_id", "source", "edition", "kind"]), actor="test",
                      status=Status.PUBLISHED)
    rem = pd.concat([obs([{"value": 8e9}], measure="REM_IN"), obs([{"value": 1e8}], measure="REM_OUT"),
                     obs([{"value": 3.3e10}], measure="GDP"), obs([{"value": -3.1e5}], measure="NET_MIG")])
    store.add_dataset(DatasetMeta(kind=Kind.REMITTANCES, source="Test WDI", edition="1"),
                      rem.drop(columns=["dataset_id", "source", "edition", "kind"]), actor="test",
                      status=Status.PUBLISHED)
    corridor = obs([{"measure": "REM_IN", "counterpart_area": "QAT", "value": 2e9, "time_period": "2021",
                     "obs_status": "A"}])
    store.add_dataset(DatasetMeta(kind=Kind.REMITTANCE_CORRIDORS, source="Test BRM", edition="2021"),
                      corridor.drop(columns=["dataset_id", "source", "edition", "kind"]), actor="test",
                      status=Status.PUBLISHED)
    return store


def add_flows_refugees_labour(store) -> None:
    """Published tables of the kinds of issue #13 for Nepal (2022): migration flows, refugees hosted
    and from Nepal abroad, asylum decisions by outcome, labour migration, border movements, and a
    population by sex and five-year age (the denominators)."""
    def add(kind: Kind, source: str, edition: str, frame: pd.DataFrame) -> None:
        store.add_dataset(DatasetMeta(kind=kind, source=source, edition=edition),
                          frame.drop(columns=["dataset_id", "source", "edition", "kind"]), actor="test",
                          status=Status.PUBLISHED)

    y = "2022"
    flows = pd.concat([
        obs([{"time_period": y, "sex": s, "counterpart_area": "IND", "value": v} for s, v in (("F", 400), ("M", 600))],
            measure="IMM"),
        obs([{"time_period": y, "sex": s, "counterpart_area": "QAT", "value": v} for s, v in (("F", 300), ("M", 900))],
            measure="EMI"),
        obs([{"time_period": y, "sex": s, "counterpart_area": "QAT", "value": v} for s, v in (("F", 50), ("M", 150))],
            measure="RET_MIG"),
    ])
    add(Kind.MIGRATION_FLOWS, "Test flows", "2023", flows)
    refugees = pd.concat([
        obs([{"time_period": y, "sex": s, "counterpart_area": "BTN", "value": v} for s, v in (("F", 3000), ("M", 2000))],
            measure="REFUG"),
        obs([{"time_period": y, "counterpart_area": "BTN", "value": 120}], measure="ASY_APP"),
        obs([{"time_period": y, "counterpart_area": "BTN", "breakdown": b, "value": v}
             for b, v in (("OUTCOME:REC", 100), ("OUTCOME:COMP", 50), ("OUTCOME:REJ", 150), ("OUTCOME:CLOSED", 20))],
            measure="ASY_DEC"),
        obs([{"time_period": y, "counterpart_area": "BTN", "value": 40}], measure="RESETTLE"),
        obs([{"time_period": y, "counterpart_area": "IND", "value": 7}], measure="RET_REFUG"),
    ])
    add(Kind.REFUGEES, "Test UNHCR", "2023", refugees)
    add(Kind.REFUGEES, "Test asylum India", "2023", obs([{"ref_area": "IND", "time_period": y, "counterpart_area": "NPL",
                                                   "value": 800}], measure="REFUG"))
    labour = pd.concat([
        obs([{"time_period": y, "sex": s, "counterpart_area": "QAT", "value": v} for s, v in (("F", 100), ("M", 1900))],
            measure="DEPLOY"),
        obs([{"time_period": y, "sex": s, "counterpart_area": "QAT", "value": v} for s, v in (("F", 120), ("M", 2000))],
            measure="PERMIT"),
    ])
    add(Kind.LABOUR_MIGRATION, "Test DoFE", "2023", labour)
    border = pd.concat([obs([{"time_period": y, "sex": s, "counterpart_area": "IND", "value": v}
                             for s, v in (("F", 5000), ("M", 7000))], measure=m) for m in ("ARR", "DEP")])
    add(Kind.BORDER_MOVEMENTS, "Test border", "2023", border)
    ages = ["Y0T4", "Y5T9", "Y10T14", "Y15T19", "Y20T24", "Y25T29", "Y30T34", "Y35T39", "Y40T44", "Y45T49", "Y50T54",
            "Y55T59", "Y60T64", "Y_GE65"]
    pop = obs([{"time_period": y, "sex": s, "age": a, "value": 100_000} for s in ("F", "M") for a in ages],
              kind="population")
    add(Kind.POPULATION, "Test WPP", "2024", pop)
    stock = obs([{"time_period": y, "sex": s, "migrant_status": "MS_MIGRANT", "value": v}
                 for s, v in (("F", 20000), ("M", 30000))])
    add(Kind.MIGRANT_STOCK, "Test UN DESA", "2024", stock)
