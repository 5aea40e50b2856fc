"""SDMX exports of the indicator table: two dataflows (the SDG global DSD for SDG series, the project's
own DSD for everything else), SDMX-CSV 1.0 and 2.0, and the SDMX-ML 2.1 structure message both refer to.

Plain functions, no Streamlit: :func:`structure_message` (bytes), :func:`data_csv` (one flow, text),
:func:`sdmx_zip` (every flow and the structure), :func:`frames` (the observations of each flow).
"""

from mmicd.sdmx.data import VERSIONS, data_csv, edition_text, frames, scopes_of, sdmx_zip, source_detail
from mmicd.sdmx.structure import FLOWS, area_code, flow, structure_message

__all__ = ["FLOWS", "VERSIONS", "area_code", "data_csv", "edition_text", "flow", "frames", "scopes_of", "sdmx_zip",
           "source_detail", "structure_message"]
