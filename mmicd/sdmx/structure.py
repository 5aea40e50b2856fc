"""The SDMX structures of the project's exports, generated from the catalogue and the code lists.

Two dataflows (``data/vocabulary/sdmx.yml`` ``export.flows``):

* ``SDG`` — ``IAEG-SDGs:DF_SDG_GLH``, the dimensions of the SDG global DSD, for the indicators that are
  SDG series (catalogue key ``series``). Its code lists hold the SDG codes the project can write
  (``isPartial``): REF_AREA as UN M49 (World ``001``), SERIES, SEX, AGE, COMPOSITE_BREAKDOWN, UNIT_MEASURE…
* ``MMICD`` — ``MMICD:DF_MIGRATION_INDICATORS``, the project's own DSD: every catalogue indicator, by
  reference area and counterpart area (M49; an aggregate without an M49 code keeps the project's code;
  a subdivision its ISO 3166-2 code, e.g. ``NP-P3``),
  sex, age, migratory status and the dataset version the value comes from.

:func:`structure_message` writes both (code lists, concept schemes, DSDs, dataflows) as an SDMX-ML 2.1
structure message, names in English, French and Spanish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from xml.etree import ElementTree as ET

import pandas as pd

from mmicd import codes
from mmicd.i18n import t
from mmicd.io.sdmx_csv import vocabulary

NS = {"mes": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message",
      "str": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure",
      "com": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FLOWS = ("SDG", "MMICD")
LANGS = ("en", "fr", "es")   # the languages of the catalogue and code lists
DESIGNS = ("full", "no_psu", "no_strata", "none")


@dataclass(frozen=True)
class Codelist:
    id: str
    names: dict[str, str]
    codes: dict[str, dict[str, str]]   # code -> names by language
    partial: bool = False


@dataclass(frozen=True)
class Flow:
    key: str
    agency: str
    id: str
    dsd: str
    version: str
    concept_scheme: str
    names: dict[str, str]
    dimensions: tuple[str, ...]
    attributes: tuple[str, ...]
    codelists: dict[str, Codelist] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """``AGENCY:ID(VERSION)``, the dataflow as SDMX-CSV names it."""
        return f"{self.agency}:{self.id}({self.version})"

    def codelist(self, component: str) -> Codelist | None:
        """The code list of a dimension or attribute (None for free text and numbers)."""
        cl = _export()["representation"].get(component)
        return self.codelists.get(cl) if cl else None


def _export() -> dict:
    return vocabulary()["export"]


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(codes.CODELIST_DIR / f"{name}.csv", dtype=str, keep_default_na=False, comment="#")


def _names(row) -> dict[str, str]:
    return {lang: getattr(row, f"name_{lang}") or row.name_en for lang in LANGS}


def _from_codelist(name: str, only: set[str] | None = None) -> dict[str, dict[str, str]]:
    return {row.code: _names(row) for row in codes.codelist(name).itertuples(index=False)
            if only is None or row.code in only}


# ---- codes: project -> SDMX --------------------------------------------------------------------
@cache
def area_codes() -> dict[str, str]:
    """Project area code -> UN M49 code (three digits: Nepal ``524``, World ``001``, Africa ``002``);
    areas without one (income groups, UN DESA's own groupings) are absent."""
    out = {row.code: row.m49.zfill(3) for row in codes.areas().itertuples(index=False)
           if row.kind == "country" and row.m49.isdigit()}
    out.update(dict(zip(*(_csv("m49_aggregates")[c] for c in ("code", "m49")), strict=True)))
    return out


def area_code(code: str) -> str:
    """The code of an area in the exports: its M49 code, else the project's own code (``_T`` stays)."""
    return area_codes().get(code, code)


def subdivision_codes() -> dict[str, dict[str, str]]:
    """ISO 3166-2 subdivision codes (today's and retired ones) -> names by language (a French or Spanish
    name only where it differs from the English one, which SDMX readers fall back to). An office's own
    codes (:mod:`mmicd.subdivision_lists`) are not in the published structure."""
    from mmicd.subdivisions import _default_list

    out = {}
    for row in _default_list().itertuples(index=False):
        en = row.name_en or row.code
        out[row.code] = {LANGS[0]: en, **{lang: getattr(row, f"name_{lang}") for lang in LANGS[1:]
                                      if getattr(row, f"name_{lang}") not in ("", en)}}
    return out


@cache
def unit_codes() -> dict[str, str]:
    """Catalogue unit (``persons``, ``percent``…) -> SDMX unit code (``NUMBER``, ``PT``…)."""
    return {u: row.code for row in _csv("sdmx_unit_measure").itertuples(index=False) for u in row.units.split()}


@cache
def status_codes() -> dict[str, str]:
    """Project obs_status -> CL_OBS_STATUS code (missing ``M`` -> ``O``: SDMX's M is 'data cannot exist')."""
    return codes.codelist("obs_status")["sdmx"].to_dict()


@cache
def sdg_series() -> pd.DataFrame:
    """The SDG series the catalogue exports, with the codes the SDG constraints allow (by series code)."""
    return _csv("sdg_series").set_index("code", drop=False)


# ---- code lists ---------------------------------------------------------------------------------
def _total(lang_names: dict | None = None) -> dict[str, dict[str, str]]:
    return {"_T": lang_names or {lang: t("sdmx.code.total", lang) for lang in LANGS}}


def _codelists(key: str) -> dict[str, Codelist]:
    from mmicd.engine import catalogue

    export = _export()
    sdg = key == "SDG"
    cls: dict[str, Codelist] = {}

    def add(cl_id: str, found: dict[str, dict[str, str]], names: dict[str, str] | None = None) -> None:
        names = names or export["concepts"].get(cl_id[3:]) or {lang: cl_id for lang in LANGS}
        cls[cl_id] = Codelist(cl_id, names, found, partial=sdg)

    for cl_id, spec in export["codelists"].items():
        add(cl_id, {str(c): n for c, n in spec["codes"].items()}, spec["name"])
    areas = codes.areas()
    m49 = area_codes()
    area = {area_code(row.code): _names(row) for row in areas.itertuples(index=False)
            if row.code in m49 or not sdg}
    if not sdg:   # subdivisions keep their ISO 3166-2 code (NP-P3): the project's flow only
        area.update(subdivision_codes())
    add("CL_AREA", area if sdg else {**area, **_total()}, export["concepts"]["REF_AREA"])
    add("CL_SEX", _from_codelist("sex"))
    add("CL_AGE", _from_codelist("age"))
    add("CL_COMPOSITE_BREAKDOWN", _from_codelist("migrant_status", {"_T", "MS_MIGRANT", "MS_NOMIGRANT"} if sdg else None))
    units = _csv("sdmx_unit_measure")
    if sdg:
        units = units[units["code"].isin(sdg_series()["unit_measure"])]
    add("CL_UNIT_MEASURE", {row.code: _names(row) for row in units.itertuples(index=False)})
    obs = codes.codelist("obs_status")
    add("CL_OBS_STATUS", {row.sdmx: _names(row) for row in obs.itertuples(index=False)})
    indicators = catalogue()
    if sdg:
        used = {i.series for i in indicators.values() if i.series}
        add("CL_SERIES", {row.code: _names(row) for row in sdg_series().itertuples(index=False) if row.code in used})
        for cl_id in export["totals_only"]:
            add(cl_id, _total())
    else:
        add("CL_INDICATOR", {i.id: {lang: i.name.get(lang) for lang in LANGS} for i in indicators.values()})
        add("CL_SURVEY_DESIGN", {d: {lang: t(f"ind.design.{d}", lang) for lang in LANGS} for d in DESIGNS})
    return cls


@cache
def flow(key: str) -> Flow:
    """The dataflow ``SDG`` or ``MMICD`` with its code lists."""
    if key not in FLOWS:
        raise ValueError(f"unknown dataflow '{key}' (use {', '.join(FLOWS)})")
    spec = _export()["flows"][key]
    return Flow(key, spec["agency"], spec["dataflow"], spec["dsd"], str(spec["version"]), spec["concept_scheme"],
                dict(spec["name"]), tuple(spec["dimensions"]), tuple(spec["attributes"]), _codelists(key))


# ---- SDMX-ML 2.1 --------------------------------------------------------------------------------
def _el(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    prefix, name = tag.split(":") if ":" in tag else ("", tag)
    return ET.SubElement(parent, f"{{{NS[prefix]}}}{name}" if prefix else name, attrs)


def _name(parent: ET.Element, names: dict[str, str]) -> None:
    """A name per language; a language absent from ``names`` (a subdivision's name that is the same in
    every language) is left out, empty ones fall back to English."""
    for lang in [lang for lang in LANGS if lang == "en" or lang in names]:
        _el(parent, "com:Name").text = names.get(lang) or names["en"]
        parent[-1].set(XML_LANG, lang)


def _ref(parent: ET.Element, tag: str, **attrs: str) -> None:
    _el(_el(parent, tag), "Ref", **attrs)


def _component(parent: ET.Element, f: Flow, tag: str, cid: str, **attrs: str) -> ET.Element:
    el = _el(parent, tag, id=cid, **attrs)
    _ref(el, "str:ConceptIdentity", id=cid, maintainableParentID=f.concept_scheme, maintainableParentVersion=f.version,
         agencyID=f.agency, **{"class": "Concept", "package": "conceptscheme"})
    rep = _export()["representation"].get(cid, "text")
    local = _el(el, "str:LocalRepresentation")
    if rep in ("text", "number"):
        _el(local, "str:TextFormat", textType="String" if rep == "text" else "Double")
    else:
        _ref(local, "str:Enumeration", id=rep, version=f.version, agencyID=f.agency,
             **{"class": "Codelist", "package": "codelist"})
    return el


def _maintainable(parent: ET.Element, tag: str, f: Flow, cid: str, names: dict[str, str], **extra: str) -> ET.Element:
    kind = {"Codelist": "codelist.Codelist", "ConceptScheme": "conceptscheme.ConceptScheme",
            "DataStructure": "datastructure.DataStructure", "Dataflow": "datastructure.Dataflow"}[tag]
    el = _el(parent, f"str:{tag}", id=cid, agencyID=f.agency, version=f.version, isFinal="false",
             urn=f"urn:sdmx:org.sdmx.infomodel.{kind}={f.agency}:{cid}({f.version})", **extra)
    _name(el, names)
    return el


def _structures(root: ET.Element, flows: list[Flow]) -> None:
    export = _export()
    found = _el(root, "mes:Structures")
    dataflows = _el(found, "str:Dataflows")
    for f in flows:
        df = _maintainable(dataflows, "Dataflow", f, f.id, f.names)
        _ref(df, "str:Structure", id=f.dsd, version=f.version, agencyID=f.agency,
             **{"class": "DataStructure", "package": "datastructure"})
    lists = _el(found, "str:Codelists")
    for f in flows:
        for cl in f.codelists.values():
            el = _maintainable(lists, "Codelist", f, cl.id, cl.names, isPartial=str(cl.partial).lower())
            for code, names in cl.codes.items():
                _name(_el(el, "str:Code", id=code), names)
    schemes = _el(found, "str:Concepts")
    for f in flows:
        scheme = _maintainable(schemes, "ConceptScheme", f, f.concept_scheme, f.names)
        for cid in (*f.dimensions, "TIME_PERIOD", "OBS_VALUE", *f.attributes):
            _name(_el(scheme, "str:Concept", id=cid), export["concepts"][cid])
    dsds = _el(found, "str:DataStructures")
    for f in flows:
        dsd = _maintainable(dsds, "DataStructure", f, f.dsd, f.names)
        parts = _el(dsd, "str:DataStructureComponents")
        dims = _el(parts, "str:DimensionList", id="DimensionDescriptor")
        for n, cid in enumerate(f.dimensions, start=1):
            _component(dims, f, "str:Dimension", cid, position=str(n))
        time = _el(dims, "str:TimeDimension", id="TIME_PERIOD", position=str(len(f.dimensions) + 1))
        _ref(time, "str:ConceptIdentity", id="TIME_PERIOD", maintainableParentID=f.concept_scheme,
             maintainableParentVersion=f.version, agencyID=f.agency, **{"class": "Concept", "package": "conceptscheme"})
        _el(_el(time, "str:LocalRepresentation"), "str:TextFormat", textType="ObservationalTimePeriod")
        attrs = _el(parts, "str:AttributeList", id="AttributeDescriptor")
        for cid in f.attributes:
            status = "Mandatory" if cid in export["mandatory"] else "Conditional"
            el = _component(attrs, f, "str:Attribute", cid, assignmentStatus=status)
            _ref(_el(el, "str:AttributeRelationship"), "str:PrimaryMeasure", id="OBS_VALUE")
        measures = _el(parts, "str:MeasureList", id="MeasureDescriptor")
        _component(measures, f, "str:PrimaryMeasure", "OBS_VALUE")


def structure_message(flows: tuple[str, ...] = FLOWS, *, prepared: datetime | None = None) -> bytes:
    """Both dataflows' structures (code lists, concept schemes, DSDs, dataflows) as an SDMX-ML 2.1
    structure message (UTF-8 bytes), names in the three languages of the app."""
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    root = ET.Element(f"{{{NS['mes']}}}Structure")
    header = _el(root, "mes:Header")
    _el(header, "mes:ID").text = "MMICD_STRUCTURE"
    _el(header, "mes:Test").text = "false"
    _el(header, "mes:Prepared").text = (prepared or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S")
    _el(header, "mes:Sender", id="MMICD")
    _structures(root, [flow(k) for k in flows])
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
