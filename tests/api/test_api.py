"""The data API over HTTP against `streamlit run app.py` (the dashboard's own server): real values
compared with the store, published data for anonymous callers and drafts only with a token under the
pages' rules, bad input refused with SDMX errors, limits that hold across two servers, OpenAPI."""

from __future__ import annotations

import csv
import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from mmicd.sdmx import data_csv, flow, scopes_of
from mmicd.store.schema import api_tokens
from tests.api.conftest import DRAFT_POP, RATE, TOKEN_RATE, get
from tests.conftest import ROOT
from tests.e2e.test_browser import streamlit_server

MMICD, SDG = flow("MMICD"), flow("SDG")
FLOW = f"{MMICD.agency},{MMICD.id},{MMICD.version}"
SDG_FLOW = f"{SDG.agency},{SDG.id},{SDG.version}"


def key(f=MMICD, **codes: str) -> str:
    """The series key of flow ``f`` (its own dimensions, in its order): the codes given, any elsewhere."""
    assert set(codes) <= set(f.dimensions), set(codes) - set(f.dimensions)
    return ".".join(codes.get(d, "") for d in f.dimensions)


NPL_POP = key(INDICATOR="pop_total", REF_AREA="NPL")
NPL_POP_TOTAL = key(INDICATOR="pop_total", REF_AREA="NPL", SEX="_T", AGE="_T", COMPOSITE_BREAKDOWN="_T",
                    COUNTERPART_AREA="_T")


def published_population(store, year: str) -> tuple[float, str, str]:
    """Nepal's total population of ``year`` as the store holds it (value, source, licence)."""
    obs = store.observations(ref_areas=["NPL"], kinds=["population"], measures=["POP"])
    row = obs.loc[(obs.time_period == year) & (obs.sex == "_T") & (obs.age == "_T")].iloc[0]
    return float(row.value), row.source, store.dataset(int(row.dataset_id)).licence


def sdmx_csv(answer) -> list[dict]:
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_published_values_are_the_stores_in_sdmx_csv_sdmx_json_and_plain_json(api_server):
    value, source, licence = published_population(api_server.store, "2020")
    answer = get(f"{api_server.url}/api/sdmx/data/{FLOW}/{NPL_POP_TOTAL}?startPeriod=2020&endPeriod=2020",
                 headers={"Accept": "application/vnd.sdmx.data+csv;version=1.0.0"})
    assert answer.status == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.sdmx.data+csv; version=1.0.0")
    rows = sdmx_csv(answer)
    assert list(rows[0]) == ["DATAFLOW", *MMICD.dimensions, "TIME_PERIOD", "OBS_VALUE", *MMICD.attributes]
    assert [(r["DATAFLOW"], r["INDICATOR"], r["REF_AREA"], r["TIME_PERIOD"]) for r in rows] == [
        ("MMICD:DF_MIGRATION_INDICATORS(1.0)", "pop_total", "524", "2020")]
    assert float(rows[0]["OBS_VALUE"]) == value and (rows[0]["UNIT_MEASURE"], rows[0]["UNIT_MULT"]) == ("NUMBER", "0")
    assert rows[0]["SOURCE_DETAIL"].startswith(source) and rows[0]["REPORTING_TYPE"] == "G"

    # SDMX-CSV 2.0, by Accept or format=
    for extra, headers in (("", {"Accept": "application/vnd.sdmx.data+csv;version=2.0.0"}), ("&format=csv-2.0", {})):
        v2 = get(f"{api_server.url}/api/sdmx/data/{FLOW}/{NPL_POP_TOTAL}?startPeriod=2020&endPeriod=2020{extra}",
                 headers=headers)
        assert v2.headers["content-type"].startswith("application/vnd.sdmx.data+csv; version=2.0.0")
        (row,) = sdmx_csv(v2)
        assert (row["STRUCTURE"], row["STRUCTURE_ID"], row["ACTION"]) == ("dataflow", MMICD.ref, "I")
        assert {k: v for k, v in row.items() if k not in ("STRUCTURE", "STRUCTURE_ID", "ACTION")} == {
            k: v for k, v in rows[0].items() if k != "DATAFLOW"}

    # the same through SDMX-JSON, asked by format= (M49 code for the area this time)
    m49_key = NPL_POP_TOTAL.replace(".NPL.", ".524.")
    message = get(f"{api_server.url}/api/sdmx/data/DF_MIGRATION_INDICATORS/{m49_key}"
                  "?startPeriod=2020&endPeriod=2020&format=sdmx-json").json()
    structure, data_set = message["data"]["structures"][0], message["data"]["dataSets"][0]
    assert [d["id"] for d in structure["dimensions"]["series"]] == list(MMICD.dimensions)
    area = next(d for d in structure["dimensions"]["series"] if d["id"] == "REF_AREA")
    assert area["values"] == [{"id": "524", "name": "Nepal"}]
    assert structure["dimensions"]["observation"][0]["values"] == [{"id": "2020", "name": "2020"}]
    (series,) = data_set["series"].values()
    assert series["observations"]["0"][0] == value

    # plain JSON with the metadata
    body = get(f"{api_server.url}/api/v1/indicators/pop_total/NPL?startPeriod=2020&endPeriod=2020&lang=fr").json()
    assert body["indicator"]["name"] == "Population totale" and body["indicator"]["unit_measure"] == "NUMBER"
    assert body["indicator"]["unit_mult"] == 0 and body["area"] == {"code": "NPL", "ref_area": "524", "name": "Népal"}
    total = [o for o in body["observations"] if o["sex"] == "_T" and o["age"] == "_T"]
    assert [o["value"] for o in total] == [value]
    assert [(s["source"], s["licence"]) for s in body["sources"]] == [(source, licence)] and licence
    assert body["licence"] == [licence] and body["published_only"] is True
    assert abs((datetime.fromisoformat(body["generated_at"]) - datetime.now().astimezone()).total_seconds()) < 120


def test_the_api_answers_what_the_download_holds(api_server):
    """All of Nepal's population rows, through the API and through the export the downloads use."""
    from mmicd.engine import compute

    store = api_server.store
    table = compute(store, country="NPL", indicators=["pop_total"], dataset_ids=store.published_ids()).table
    for version, fmt in (("1.0", "csv"), ("2.0", "csv-2.0")):
        answer = get(f"{api_server.url}/api/sdmx/data/{FLOW}/{NPL_POP}?format={fmt}")
        assert answer.status == 200, answer.text[:300]
        assert answer.text == data_csv(table, "MMICD", version, scopes=scopes_of(store, table))
        assert len(sdmx_csv(answer)) > 100


def test_an_sdg_series_comes_from_the_sdg_flow_with_its_series_code(api_server):
    """Remittances as a share of GDP (SDG series BX_TRF_PWKR): in DF_SDG_GLH, keyed by SERIES; the
    project's flow does not serve it."""
    from mmicd.engine import compute

    store = api_server.store
    table = compute(store, country="NPL", indicators=["rem_in_gdp"], dataset_ids=store.published_ids()).table
    expected = table.loc[(table.time_period == "2020") & (table.sex == "_T")].value.tolist()
    assert len(expected) == 1
    answer = get(f"{api_server.url}/api/sdmx/data/{SDG_FLOW}/{key(SDG, SERIES='BX_TRF_PWKR', REF_AREA='NPL')}"
                 "?startPeriod=2020&endPeriod=2020&format=csv")
    assert answer.status == 200, answer.text[:300]
    (row,) = sdmx_csv(answer)
    assert list(row) == ["DATAFLOW", *SDG.dimensions, "TIME_PERIOD", "OBS_VALUE", *SDG.attributes]
    assert "INDICATOR" not in row and "COUNTERPART_AREA" not in row
    assert (row["DATAFLOW"], row["SERIES"], row["REF_AREA"], row["URBANISATION"], row["UNIT_MEASURE"]) == (
        "IAEG-SDGs:DF_SDG_GLH(1.0)", "BX_TRF_PWKR", "524", "_T", "PT")
    assert float(row["OBS_VALUE"]) == round(expected[0], 3)
    # the series' name in SDMX-JSON comes from the SDG code list
    message = get(f"{api_server.url}/api/sdmx/data/DF_SDG_GLH/{key(SDG, SERIES='BX_TRF_PWKR', REF_AREA='524')}"
                  "?startPeriod=2020&endPeriod=2020&lang=fr").json()
    series = next(d for d in message["data"]["structures"][0]["dimensions"]["series"] if d["id"] == "SERIES")
    assert series["values"] == [{"id": "BX_TRF_PWKR", "name": SDG.codelist("SERIES").codes["BX_TRF_PWKR"]["fr"]}]
    # not under the project's flow, by its catalogue id
    refused = get(f"{api_server.url}/api/sdmx/data/{FLOW}/{key(INDICATOR='rem_in_gdp', REF_AREA='NPL')}")
    assert refused.status == 404 and refused.json()["errors"][0]["code"] == 100


def test_structure_is_an_sdmx_ml_message_with_both_dataflows(api_server):
    import sdmx as sdmx1

    answer = get(f"{api_server.url}/api/sdmx/structure/dataflow")
    assert answer.status == 200 and answer.headers["content-type"].startswith(
        "application/vnd.sdmx.structure+xml; version=2.1")
    message = sdmx1.read_sdmx(io.BytesIO(answer.body))
    assert set(message.dataflow) == {"DF_SDG_GLH", "DF_MIGRATION_INDICATORS"}
    for f in (SDG, MMICD):
        dsd = message.dataflow[f.id].structure
        assert [d.id for d in message.structure[dsd.id].dimensions.components] == [*f.dimensions, "TIME_PERIOD"]
    # one flow asked for: its structures only
    sdg_only = sdmx1.read_sdmx(io.BytesIO(get(f"{api_server.url}/api/sdmx/structure/datastructure/IAEG-SDGs/"
                                              "DF_SDG_GLH/latest").body))
    assert list(sdg_only.dataflow) == ["DF_SDG_GLH"] and "BX_TRF_PWKR" in sdg_only.codelist["CL_SERIES"]


def test_periods_and_dimension_at_observation(api_server):
    obs = api_server.store.observations(ref_areas=["NPL"], kinds=["population"], measures=["POP"])
    expected = sorted({p for p in obs.time_period if "2000" <= p <= "2015"})
    npl_young = key(INDICATOR="pop_total", REF_AREA="NPL", SEX="F+M", AGE="Y0T4", COUNTERPART_AREA="_T")
    url = f"{api_server.url}/api/sdmx/data/{FLOW}/{npl_young}?startPeriod=2000-Q1&endPeriod=2015-12"
    rows = sdmx_csv(get(url + "&format=csv"))
    assert sorted({r["TIME_PERIOD"] for r in rows}) == expected and {r["SEX"] for r in rows} == {"F", "M"}
    flat = get(url + "&dimensionAtObservation=AllDimensions").json()["data"]
    assert len(flat["dataSets"][0]["observations"]) == len(rows) == 2 * len(expected)
    assert sdmx_csv(get(url, headers={"Accept": "text/csv"})) == rows
    xml_only = get(url, headers={"Accept": "application/xml"})  # SDMX-ML data is not offered
    assert xml_only.status == 406 and ElementTree.fromstring(xml_only.body)[0].get("code") == "1406"
    by_sex = get(url + "&dimensionAtObservation=SEX").json()["data"]
    assert [d["id"] for d in by_sex["structures"][0]["dimensions"]["observation"]] == ["SEX"]
    assert sum(len(s["observations"]) for s in by_sex["dataSets"][0]["series"].values()) == len(rows)


def test_drafts_only_with_a_token_whose_account_may_see_them(api_server):
    base, tokens = api_server.url, api_server.tokens
    url = f"{base}/api/v1/indicators/pop_total/NPL?startPeriod=2021&endPeriod=2021"

    def totals(answer):
        assert answer.status == 200, answer.text
        return [(o["value"], o["source"]) for o in answer.json()["observations"] if o["sex"] == "_T"]

    assert totals(get(url)) == []  # published only: no 2021 figure for Nepal
    assert totals(get(url, token=tokens["ana"])) == []  # a token alone does not bring drafts
    assert totals(get(url + "&drafts=true", token=tokens["ana"])) == [(DRAFT_POP, "Nepal NSO census")]
    rows = sdmx_csv(get(f"{base}/api/sdmx/data/{FLOW}/{NPL_POP_TOTAL}?startPeriod=2021&drafts=1&format=csv",
                        token=tokens["ana"]))
    # a national dataset (scope: Nepal): REPORTING_TYPE N, its own DATASET code
    assert [(float(r["OBS_VALUE"]), r["REPORTING_TYPE"], r["DATASET"]) for r in rows] == [
        (DRAFT_POP, "N", str(api_server.draft_ids["NPL"]))]

    anonymous = get(url + "&drafts=true")
    assert anonymous.status == 401 and anonymous.json()["errors"][0]["code"] == 110
    assert get(url + "&drafts=true", token=tokens["vic"]).status == 403  # a viewer sees no drafts
    germany = get(f"{base}/api/v1/indicators/pop_total/DEU?drafts=true", token=tokens["ana"])
    assert germany.status == 403 and "DEU" in germany.json()["errors"][0]["title"]  # not her country
    assert get(url, token="mmicd_not-a-real-token").status == 401

    # only hashes are stored; a revoked token stops working at once
    from mmicd.api.tokens import list_tokens, revoke_token
    from mmicd.auth.accounts import get_user

    with api_server.store.engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(select(api_tokens))]
    assert not any(token in repr(stored) for token in tokens.values())
    gone = get_user(api_server.store, "gone")
    assert get(url, token=tokens["gone"]).status == 200
    revoke_token(api_server.store, gone, list_tokens(api_server.store, gone)[0].id)
    assert get(url, token=tokens["gone"]).status == 401
    trail = api_server.store.audit()
    assert {"token:create", "token:revoke"} <= set(trail["action"])


BAD = [
    ("sdmx/data/NO_SUCH_FLOW/" + NPL_POP, 404, 100),
    (f"sdmx/data/{FLOW}/{key(INDICATOR='no_such_indicator', REF_AREA='NPL')}", 404, 100),
    (f"sdmx/data/{FLOW}/{key(INDICATOR='pop_total', REF_AREA='XYZ')}", 404, 100),
    (f"sdmx/data/{FLOW}/{key(INDICATOR='pop_total', REF_AREA='NPL', SEX='Q_NOPE')}", 404, 100),
    (f"sdmx/data/{FLOW}/{NPL_POP}?startPeriod=1850&endPeriod=1860", 404, 100),
    (f"sdmx/data/{FLOW}/{NPL_POP}?startPeriod=2020-13", 400, 140),
    (f"sdmx/data/{FLOW}/{NPL_POP}?startPeriod=2020&endPeriod=2010", 400, 140),
    (f"sdmx/data/{FLOW}/{NPL_POP[1:]}", 400, 140),  # a part short
    (f"sdmx/data/{FLOW}/{key(INDICATOR='pop_total', REF_AREA='N<script>PL')}", 400, 140),
    (f"sdmx/data/{FLOW}/{key(INDICATOR='pop_total')}", 400, 140),
    (f"sdmx/data/{FLOW}/{key(INDICATOR='pop_total', REF_AREA='+'.join(['NPL', 'IND', 'BGD', 'PAK', 'LKA', 'BTN', 'CHN', 'DEU', 'FRA', 'USA', 'GBR']))}",
     400, 140),
    (f"sdmx/data/{FLOW}/{key(INDICATOR='+'.join(['pop_total'] * 61), REF_AREA='NPL')}", 400, 140),
    (f"sdmx/data/{FLOW}/{NPL_POP}?detail=full", 400, 140),
    (f"sdmx/data/{FLOW}/{NPL_POP}?format=xlsx", 400, 140),
    (f"sdmx/data/{FLOW}/{NPL_POP}?dimensionAtObservation=NOPE", 400, 140),
    (f"sdmx/data/{FLOW}/{NPL_POP}?drafts=maybe", 400, 140),
    (f"sdmx/data/{FLOW}/{NPL_POP}?startPeriod={'9' * 3000}", 414, 140),
    ("sdmx/structure/nonsense", 404, 100),
    ("sdmx/structure/contentconstraint/MMICD/DF_MIGRATION_INDICATORS/1.0", 501, 501),
    ("sdmx/structure/dataflow/MMICD/DF_SDG_GLH/1.0", 404, 100),
    (f"sdmx/data/{FLOW}/{key(INDICATOR='rem_in_gdp', REF_AREA='NPL')}", 404, 100),  # the SDG flow holds it
    (f"sdmx/data/{SDG_FLOW}/{key(SDG, SERIES='pop_total', REF_AREA='NPL')}", 404, 100),  # not an SDG series
    (f"sdmx/data/{SDG_FLOW}/{NPL_POP}", 400, 140),  # a key of the other flow
    ("v1/indicators/no_such/NPL", 404, 100),
    ("v1/indicators/pop_total/Atlantis", 404, 100),
    ("v1/indicators?lang=de", 400, 140),
    ("v2/whatever", 404, 100),
]


@pytest.mark.parametrize(("n", "path", "status", "code"), [(n, *b) for n, b in enumerate(BAD)],
                         ids=[b[0][:60] for b in BAD])
def test_bad_input_gets_an_sdmx_error_and_nothing_else(api_server, n, path, status, code):
    address = f"192.0.2.{100 + n}"  # a client of its own: the limits are not what is tested here
    answer = get(f"{api_server.url}/api/{path}", address=address)
    assert (answer.status, answer.headers["content-type"]) == (status, "application/json; charset=utf-8"), answer.text[:300]
    body = answer.json()
    assert set(body) == {"meta", "errors"} and body["errors"][0]["code"] == code
    assert not re.search(r"Traceback|File \"|sqlalchemy|\.py\b", answer.text)
    # the same error in SDMX-ML for a client that takes XML only
    xml = get(f"{api_server.url}/api/{path}", address=address, headers={"Accept": "application/xml"})
    assert xml.status == status and xml.headers["content-type"].startswith("application/vnd.sdmx.error+xml")
    message = ElementTree.fromstring(xml.body)[0]
    assert message.get("code") == str(code) and message[0].text == body["errors"][0]["title"]


def test_every_refusal_has_its_message_in_every_language():
    from mmicd.config import LANGUAGES
    from mmicd.i18n import catalogue

    reasons = set()
    for path in (ROOT / "mmicd" / "api").glob("*.py"):
        reasons |= set(re.findall(r'ApiError\(\d+, "(\w+)"', path.read_text()))
    assert len(reasons) > 25
    for lang in LANGUAGES:
        assert {f"api.error.{r}" for r in reasons} <= set(catalogue(lang)), lang


def test_rate_limits_hold_across_two_servers(api_server):
    """Requests of one address, sent in parallel to two servers of the same store: exactly RATE pass."""
    with streamlit_server(api_server.folder / "b", api_server.folder / "b.log", api_server.env) as second:
        urls = [f"{server}/api/sdmx/structure/dataflow" for server in (api_server.url, second)] * (RATE // 2 + 6)
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda u: get(u, address="198.51.100.7"), urls))
        statuses = sorted(a.status for a in answers)
        assert statuses == [200] * RATE + [429] * (len(urls) - RATE)
        refused = next(a for a in answers if a.status == 429)
        assert 0 < int(refused.headers["retry-after"]) <= 300 and refused.json()["errors"][0]["code"] == 1429
        assert get(urls[1], address="198.51.100.8").status == 200  # another address is not held back
        # a token has its own limit, whatever the addresses it comes from
        token = api_server.tokens["rate"]
        answers = [get(urls[i % 2], token=token, address=f"203.0.113.{i}") for i in range(TOKEN_RATE + 2)]
        assert [a.status for a in answers] == [200] * TOKEN_RATE + [429] * 2


def test_openapi_description_is_valid_and_matches_the_routes(api_server):
    from openapi_spec_validator import validate

    spec = get(f"{api_server.url}/api/openapi.json").json()
    validate(spec)
    for path, item in spec["paths"].items():
        declared = {p["name"] for p in item["get"].get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), path
        example = path.format(flow=FLOW, key=NPL_POP, resource="dataflow", agency="MMICD",
                              id="DF_MIGRATION_INDICATORS", version="1.0", indicator="pop_total", area="NPL")
        assert get(api_server.url + example, address="192.0.2.60").status == 200, path


def test_the_dashboard_is_served_beside_the_api(api_server):
    page = get(f"{api_server.url}/overview")
    assert page.status == 200 and b"<title>streamlit</title>" in page.body.lower()
    assert get(f"{api_server.url}/_stcore/health").text == "ok"
