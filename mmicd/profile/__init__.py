"""Country migration profiles: sections assembled from published data (no Streamlit here).

:func:`build_profile` turns frames into a :class:`CountryProfile` (a pydantic model, also the JSON
brief); :func:`profile_from_store` reads the frames from a store. Charts are in
:mod:`mmicd.profile.charts`, briefs (xlsx, html, pdf, json) in :mod:`mmicd.profile.brief`.
"""

from mmicd.profile.assemble import Inputs, build_profile, inputs_from_store, profile_from_store
from mmicd.profile.model import Block, CountryProfile, Figure, Section, SourceRef

__all__ = ["Block", "CountryProfile", "Figure", "Inputs", "Section", "SourceRef", "build_profile",
           "inputs_from_store", "profile_from_store"]
