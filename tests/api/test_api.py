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

from mmicd.store.schema import api_tokens
from tests.api.conftest import DRAFT_POP, RATE, TOKEN_RATE, get
from tests.conftest import ROOT
from tests.e2e.test_browser import streamlit_server

FLOW = "MMICD,DF_MIGRATION_INDICATORS,1.0"


def published_population(store, year: str) -> tuple[float, str, str]:
    """Nepal's total population of ``year`` as the store holds it (value, source, licence)."""
    obs = store.observations(ref_areas=["NPL"], kinds=["population"], measures=["POP"])
    row = obs.loc[(obs.time_period == year) & (obs.sex == "_T") & (obs.age == "_T")].iloc[0]
    return float(row.value), row.source, store.dataset(int(row.dataset_id)).licence


def sdmx_csv(answer) -> list[dict]:
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_published_values_are_the_stores_in_sdmx_csv_sdmx_json_and_plain_json(api_server):
    value, source, licence = published_population(api_server.store, "2020")
    key = "pop_total.NPL._T._T._T._T"
    answer = get(f"{api_server.url}/api/sdmx/data/{FLOW}/{key}?startPeriod=2020&endPeriod=2020",
                 headers={"Accept": "application/vnd.sdmx.data+csv;version=1.0.0"})
    assert answer.status == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.sdmx.data+csv")
    rows = sdmx_csv(answer)
    assert [(r["INDICATOR"], r["REF_AREA"], r["TIME_PERIOD"]) for r in rows] == [("pop_total", "524", "2020")]
    assert float(rows[0]["OBS_VALUE"]) == value and rows[0]["UNIT_MEASURE"] == "PS"
    assert rows[0]["SOURCE_DETAIL"].startswith(source)

    # the same through SDMX-JSON, asked by format= (M49 code for the area this time)
    message = get(f"{api_server.url}/api/sdmx/data/DF_MIGRATION_INDICATORS/pop_total.524._T._T._T._T"
                  "?startPeriod=2020&endPeriod=2020&format=sdmx-json").json()
    structure, data_set = message["data"]["structures"][0], message["data"]["dataSets"][0]
    assert [d["id"] for d in structure["dimensions"]["series"]][:2] == ["INDICATOR", "REF_AREA"]
    assert structure["dimensions"]["series"][1]["values"] == [{"id": "524", "name": "Nepal"}]
    assert structure["dimensions"]["observation"][0]["values"] == [{"id": "2020", "name": "2020"}]
    (series,) = data_set["series"].values()
    assert series["observations"]["0"][0] == value

    # plain JSON with the metadata
    body = get(f"{api_server.url}/api/v1/indicators/pop_total/NPL?startPeriod=2020&endPeriod=2020&lang=fr").json()
    assert body["indicator"]["name"] == "Population totale" and body["indicator"]["unit_measure"] == "PS"
    assert body["indicator"]["unit_mult"] == 0 and body["area"] == {"code": "NPL", "ref_area": "524", "name": "Népal"}
    total = [o for o in body["observations"] if o["sex"] == "_T" and o["age"] == "_T"]
    assert [o["value"] for o in total] == [value]
    assert [(s["source"], s["licence"]) for s in body["sources"]] == [(source, licence)] and licence
    assert body["licence"] == [licence] and body["published_only"] is True
    assert abs((datetime.fromisoformat(body["generated_at"]) - datetime.now().astimezone()).total_seconds()) < 120


def test_periods_and_dimension_at_observation(api_server):
    obs = api_server.store.observations(ref_areas=["NPL"], kinds=["population"], measures=["POP"])
    expected = sorted({p for p in obs.time_period if "2000" <= p <= "2015"})
    url = f"{api_server.url}/api/sdmx/data/{FLOW}/pop_total.NPL.F+M.Y0T4.._T?startPeriod=2000-Q1&endPeriod=2015-12"
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
    rows = sdmx_csv(get(f"{base}/api/sdmx/data/{FLOW}/pop_total.NPL._T._T._T._T?startPeriod=2021&drafts=1&format=csv",
                        token=tokens["ana"]))
    assert [float(r["OBS_VALUE"]) for r in rows] == [DRAFT_POP]

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
    ("sdmx/data/NO_SUCH_FLOW/pop_total.NPL....", 404, 100),
    (f"sdmx/data/{FLOW}/no_such_indicator.NPL....", 404, 100),
    (f"sdmx/data/{FLOW}/pop_total.XYZ....", 404, 100),
    (f"sdmx/data/{FLOW}/pop_total.NPL.Q_NOPE...", 404, 100),
    (f"sdmx/data/{FLOW}/pop_total.NPL....?startPeriod=1850&endPeriod=1860", 404, 100),
    (f"sdmx/data/{FLOW}/pop_total.NPL....?startPeriod=2020-13", 400, 140),
    (f"sdmx/data/{FLOW}/pop_total.NPL....?startPeriod=2020&endPeriod=2010", 400, 140),
    (f"sdmx/data/{FLOW}/pop_total.NPL...", 400, 140),
    (f"sdmx/data/{FLOW}/pop_total.N<script>PL....", 400, 140),
    (f"sdmx/data/{FLOW}/pop_total.....", 400, 140),
    (f"sdmx/data/{FLOW}/pop_total.{'+'.join(['NPL', 'IND', 'BGD', 'PAK', 'LKA', 'BTN', 'CHN', 'DEU', 'FRA', 'USA', 'GBR'])}....",
     400, 140),
    (f"sdmx/data/{FLOW}/{'+'.join(['pop_total'] * 61)}.NPL....", 400, 140),
    (f"sdmx/data/{FLOW}/pop_total.NPL....?detail=full", 400, 140),
    (f"sdmx/data/{FLOW}/pop_total.NPL....?format=xlsx", 400, 140),
    (f"sdmx/data/{FLOW}/pop_total.NPL....?dimensionAtObservation=NOPE", 400, 140),
    (f"sdmx/data/{FLOW}/pop_total.NPL....?drafts=maybe", 400, 140),
    (f"sdmx/data/{FLOW}/pop_total.NPL....?startPeriod={'9' * 3000}", 414, 140),
    ("sdmx/structure/nonsense", 404, 100),
    ("sdmx/structure/datastructure/MMICD/DF_MIGRATION_INDICATORS/1.0", 501, 501),
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
        example = path.format(flow=FLOW, key="pop_total.NPL....", resource="dataflow", agency="MMICD",
                              id="DF_MIGRATION_INDICATORS", version="1.0", indicator="pop_total", area="NPL")
        assert get(api_server.url + example, address="192.0.2.60").status == 200, path


def test_the_dashboard_is_served_beside_the_api(api_server):
    page = get(f"{api_server.url}/overview")
    assert page.status == 200 and b"<title>streamlit</title>" in page.body.lower()
    assert get(f"{api_server.url}/_stcore/health").text == "ok"
