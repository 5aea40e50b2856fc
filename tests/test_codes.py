"""Code lists: closed vocabularies kept as data."""

from __future__ import annotations

import pytest

from mmicd import codes


def test_small_code_lists_hold_the_sdmx_codes():
    assert codes.codes("sex") == {"F", "M", "_T", "_U"}
    assert {"MS_MIGRANT", "MS_NOMIGRANT", "_T", "_U"} == codes.codes("migrant_status")
    assert {"A", "E", "I", "M", "P", "Q", "U"} == codes.codes("obs_status")
    assert {"EMP", "UNE", "INA", "_T"} <= codes.codes("labour_status")


def test_age_groups_tile_the_life_span_without_gaps_or_overlaps():
    frame = codes.codelist("age")
    fives = frame.loc[frame["kind"] == "5y"]
    bounds = sorted((int(r.lower), int(r.upper) if r.upper else None) for r in fives.itertuples())
    assert bounds[0][0] == 0 and bounds[-1] == (100, None)
    for (_, hi), (lo, _) in zip(bounds, bounds[1:], strict=False):
        assert lo == hi + 1
    assert codes.age_bounds("Y15T24") == (15, 24)
    assert codes.age_bounds("Y_GE65") == (65, None)
    assert codes.age_bounds("nonsense") == (None, None)


@pytest.mark.parametrize(
    ("text", "code"),
    [("DEU", "DEU"), ("de", "DEU"), ("276", "DEU"), ("Germany", "DEU"), ("Allemagne", "DEU"),
     ("Alemania", "DEU"), ("France*", "FRA"), ("Yemen, Rep.", "YEM"), ("Türkiye", "TUR"), ("Turkey", "TUR"),
     ("  cote d'ivoire ", "CIV"), ("Côte d’Ivoire", "CIV"), ("Sénégal", "SEN"), ("004", "AFG"),
     ("World", "WLD"), ("Atlantis", None), (None, None)],
)
def test_resolve_area(text, code):
    assert codes.resolve_area(text) == code


def test_aggregates_are_kept_apart_from_countries():
    assert codes.is_country("NPL") and not codes.is_country("WLD")
    assert codes.area_kind("WLD") == "world"
    options = codes.area_options("en")
    kinds = [codes.area_kind(c) for c in options]
    first_aggregate = kinds.index(next(k for k in kinds if k != "country"))
    assert all(k == "country" for k in kinds[:first_aggregate])
    assert all(k != "country" for k in kinds[first_aggregate:])
    assert len(codes.country_codes()) >= 230


def test_names_in_three_languages():
    assert codes.area_name("DEU", "fr") == "Allemagne"
    assert codes.area_name("DEU", "es") == "Alemania"
    assert codes.area_name("NPL", "en") == "Nepal"
