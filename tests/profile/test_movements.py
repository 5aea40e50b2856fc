"""The profile's movements sections (issue #13) on the baseline plus national uploads read by the
general reader: values by hand, one dataset version per line, months kept apart from years, the
denominator's source named, empty sections naming their template."""

from __future__ import annotations

import pandas as pd
import pytest

from mmicd.ingest import Upload, commit, prepare
from mmicd.profile import profile_from_store
from mmicd.profile.brief import _sections

FLOWS = ("Migration flows of Nepal\ncountry,year,sex,inflows,outflows\n"
         "NPL,2019,Total,1000,5000\nNPL,2020,Total,1200,4000\nNPL,2020,Female,500,1500\nNPL,2020,Male,700,2500\n")
LABOUR = "country,year,country of destination,sex,workers deployed abroad\n" + "".join(
    f"NPL,2020,{dest},{sex},{v}\n" for dest, values in (("QAT", (1000, 50000)), ("MYS", (500, 30000)),
                                                        ("SAU", (800, 20000))) for sex, v in zip(("Female", "Male"), values, strict=True))
BORDER = "Border crossings at Nepal's airports\ncountry,month,nationality,arrivals,departures\n" + "".join(
    f"NPL,2023-{m:02d},IND,{100 + m},{90 + m}\n" for m in range(1, 13))


def _publish(store, name: str, text: str) -> None:
    prep = prepare([Upload(name, text.encode())], kind="auto")
    assert prep.ok, [i.message for i in prep.issues if i.level == "error"]
    commit(prep, store, actor="test", publish=True)


@pytest.fixture
def nepal(seeded_store):
    for name, text in (("flows.csv", FLOWS), ("labour.csv", LABOUR), ("border.csv", BORDER)):
        _publish(seeded_store, name, text)
    return profile_from_store(seeded_store, "NPL", None, "en")


def rows(block) -> pd.DataFrame:
    return pd.DataFrame(block.rows)


def test_flows_by_hand_with_the_rate_over_another_datasets_population(nepal, seeded_store):
    flows = rows(nepal.block("flows_trend")).set_index(["series", "time_period"])["value"]
    assert flows[("immigrants", "2020")] == 1200 and flows[("emigrants", "2019")] == 5000
    assert flows[("net_migration_flows", "2020")] == 1200 - 4000 and flows[("net_migration_flows", "2019")] == -4000
    # per 1,000 population: the population of 2020 from another dataset (no national one): the stated rule
    pop = seeded_store.observations(ref_areas=["NPL"], measures=["POP"])
    pop = pop.loc[(pop["time_period"] == "2020") & (pop["sex"] == "_T") & (pop["age"] == "_T")
                  & (pop["migrant_status"] == "_T") & (pop["counterpart_area"] == "_T")]
    rates = rows(nepal.block("flow_rates")).set_index(["series", "time_period"])["value"]
    assert any(rates[("immigration_rate", "2020")] == pytest.approx(1200 / v * 1000) for v in pop["value"])
    block = nepal.block("flow_rates")
    assert len({s.source for s in block.sources}) == 2   # the flows upload and the population's source
    assert any("denominator" in n for n in block.notes)


def test_labour_destinations_by_sex_and_the_key_figure(nepal):
    top = rows(nepal.block("labour_destinations"))
    assert list(top["area"]) == ["QAT", "MYS", "SAU"]
    assert top.iloc[0][["F", "M", "total"]].tolist() == [1000, 50000, 51000]
    fig = nepal.figure("workers_deployed")
    assert fig.value == 51000 + 30500 + 20800 and fig.year == "2020" and fig.national and fig.definition


def test_border_months_stay_months_and_their_year_is_the_sum(nepal):
    border = rows(nepal.block("border_trend"))
    arrivals = border.loc[border["series"] == "arrivals"]
    assert sorted(arrivals["time_period"]) == [f"2023-{m:02d}" for m in range(1, 13)]   # never 2023 beside them
    assert arrivals.set_index("time_period")["value"]["2023-07"] == 107
    departures = border.loc[border["series"] == "departures"].set_index("time_period")["value"]
    assert len(departures) == 12 and departures["2023-12"] == 102     # reported by Nepal, not by India
    # the largest nationalities over the latest whole year: the engine's sum of the 12 months, said
    top = nepal.block("border_nationalities")
    assert top.rows[0]["area"] == "IND" and top.rows[0]["total"] == sum(100 + m for m in range(1, 13)) == 1278
    assert "2023" in top.notes[0] and any("12 months" in n for n in top.notes)


def test_sections_without_data_name_their_template_and_stay_out_of_the_brief(nepal):
    returns = nepal.section("returns")
    assert all(b.empty for b in returns.blocks)
    assert "returns template" in returns.blocks[0].empty_message
    printed = [s.id for s in _sections(nepal)]
    assert "returns" not in printed and {"flows", "labour_migration", "border"} <= set(printed)
    missing = {r["item"] for r in nepal.block("missing").rows}
    assert nepal.block("returns_trend").title in missing and nepal.block("flows_trend").title not in missing


def test_french_labels(seeded_store):
    _publish(seeded_store, "flows.csv", FLOWS)
    p = profile_from_store(seeded_store, "NPL", None, "fr")
    assert p.section("flows").title == "Flux migratoires"
    from mmicd.profile.tables import display

    shown = display(p.block("flows_trend"), "fr")
    assert "Immigrants" in " ".join(map(str, shown.iloc[:, 1].unique()))


def test_un_desa_flows_by_criterion_in_the_profile(seeded_store):
    """UN DESA International Migration Flows 2015 (../shared/reference/layouts/undesa-migration-flows,
    published by criterion only): Austria 2010, by change of residence, 70,978 immigrants and 51,651
    emigrants (the citizenship series, 8,817 citizens + 62,161 foreigners, is not added to it)."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "shared" / "reference" / "layouts" / "undesa-migration-flows" / \
        "undesa_pd_2015_migration_flow_totals.xlsx"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    prep = prepare([Upload(path.name, path.read_bytes())], kind="auto")
    commit(prep, seeded_store, actor="test", publish=True)
    p = profile_from_store(seeded_store, "AUT", "2010", "en")
    flows = rows(p.block("flows_trend")).set_index(["series", "time_period"])["value"]
    assert flows[("immigrants", "2010")] == 70978 and flows[("emigrants", "2010")] == 51651
    assert flows[("net_migration_flows", "2010")] == 70978 - 51651
    assert any("by change of residence" in n for n in p.block("flows_trend").notes)
