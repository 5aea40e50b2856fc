"""The default subdivision code list (ISO 3166-2 via pycountry) and how names resolve to codes."""

import pycountry
import pytest

from mmicd import codes
from mmicd import subdivisions as sub


def test_code_list_is_iso_3166_2_for_every_country_we_know():
    frame = sub.subdivisions()
    frame = frame[frame["valid_to"] == ""]    # today's codes (retired ones come from the changes file)
    iso2_to_iso3 = {r.iso2: r.code for r in codes.areas().itertuples() if r.kind == "country" and r.iso2}
    expected = {s.code: iso2_to_iso3[s.country_code] for s in pycountry.subdivisions
                if s.country_code in iso2_to_iso3}
    assert dict(zip(frame["code"], frame["country"], strict=True)) == expected
    assert frame["code"].is_unique
    # every parent is a subdivision of the same country, one level up
    children = frame[frame["parent"] != ""]
    assert (children["parent"].map(frame["country"]) == children["country"]).all()
    assert (children["parent"].map(frame["level"]) == children["level"] - 1).all()


def test_nepal_has_seven_provinces_with_current_and_interim_names():
    provinces = sub.of_country("NPL", level=1)
    assert list(provinces["code"]) == [f"NP-P{i}" for i in range(1, 8)]
    assert sub.resolve_subdivision("Province No. 1", "NPL") == "NP-P1"   # interim name (before 2023)
    assert sub.resolve_subdivision("koshi province", "NPL") == "NP-P1"
    assert sub.resolve_subdivision("NP-P3", "NPL") == "NP-P3"
    assert sub.resolve_subdivision("p3", "NPL") == "NP-P3"
    assert sub.resolve_subdivision("Sudurpaschim", "NPL") == "NP-P7"     # a common spelling
    assert sub.country_of("NP-P5") == "NPL" and sub.country_of("NPL") is None


def test_names_resolve_only_within_their_country():
    assert sub.resolve_subdivision("Dakar", "SEN") == "SN-DK"
    assert sub.resolve_subdivision("Dakar", "NPL") is None
    assert sub.resolve_subdivision("NP-P1", "SEN") is None


def test_french_and_spanish_names_resolve():
    # the iso-codes translation of a Philippine province: "Nouvelle-Ecija" in French
    assert sub.subdivision_name("PH-NUE", "fr") == "Nouvelle-Ecija"
    assert sub.resolve_subdivision("Nouvelle-Écija", "PHL") == "PH-NUE"


def test_a_name_of_two_subdivisions_is_never_guessed():
    # Bangladesh: Dhaka is a division (level 1) and a district (level 2) of it
    assert sub.resolve_subdivision("Dhaka", "BGD") is None
    assert sub.ambiguous("Dhaka", "BGD") == ["BD-13", "BD-C"]
    assert sub.resolve_subdivision("Dhaka", "BGD", level=1) == "BD-C"
    assert sub.resolve_subdivision("Dhaka", "BGD", level=2) == "BD-13"
    assert sub.resolve_subdivision("Dhaka Division", "BGD") == "BD-C"
    # Taiwan: Chiayi City and Chiayi County, both at the first level
    assert sub.resolve_subdivision("Chiayi", "TWN", level=1) is None
    assert sub.ambiguous("Chiayi", "TWN", level=1) == ["TW-CYI", "TW-CYQ"]


@pytest.mark.parametrize("typo, expected", [("Gandakhi", "Gandaki"), ("Karnaly", "Karnali")])
def test_close_names_are_suggested(typo, expected):
    assert sub.resolve_subdivision(typo, "NPL") is None
    assert expected in sub.suggestions(typo, "NPL")
