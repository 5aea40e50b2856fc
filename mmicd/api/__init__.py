"""The data API: a read-only HTTP API for partner systems, served by the dashboard's own server.

- ``/api/sdmx/data/{flow}/{key}`` and ``/api/sdmx/structure/...``: SDMX REST, answering SDMX-CSV and
  SDMX-JSON (:mod:`mmicd.api.routes`, the export behind :mod:`mmicd.api.sdmx`);
- ``/api/v1/indicators`` and ``/api/v1/indicators/{id}/{area}``: plain JSON with the metadata;
- ``/api/openapi.json``: the OpenAPI description (:mod:`mmicd.api.openapi`).

Published data for everybody; drafts with a personal token (:mod:`mmicd.api.tokens`) under the
pages' role and country rules; requests limited per address and per token in the database
(:mod:`mmicd.api.limits`). Nothing here imports Streamlit.
"""
