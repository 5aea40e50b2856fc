"""The survey design in the upload page's mapping editor: the stratum and PSU columns are offered,
chosen and saved in the YAML mapping profile that ``python -m mmicd ingest --mapping`` reuses."""

from __future__ import annotations

import json
from pathlib import Path

from mmicd.cli import main
from mmicd.ingest import MappingProfile
from mmicd.store import Store
from tests.fixtures import survey_design as sd
from tests.upload.test_upload_page import _sha, button, open_upload_page


def ipums_with_unknown_cluster_name() -> tuple[str, list[str], list[str]]:
    """An IPUMS extract whose cluster column has a name nobody could guess (UNITE_ECH): the household
    serial is taken as the PSU until the user picks the cluster column."""
    md = sd.records(400)
    data, expected = sd.ipums(md)
    text = data.decode().replace("CLUSTER", "UNITE_ECH", 1)
    return text, expected["psu"].tolist(), md["household"].astype(str).tolist()


def test_the_psu_is_chosen_in_the_mapping_editor_and_reused_from_the_command_line(app_env, tmp_path, monkeypatch,
                                                                                  capsys):
    text, clusters, households = ipums_with_unknown_cluster_name()
    at = open_upload_page()
    at.get("file_uploader")[0].set_value([("ipums.csv", text.encode(), "text/csv")])
    at.run()
    assert not at.exception, at.exception
    keys = [s.key for s in at.selectbox if s.key and s.key.startswith("upload_map_")]
    psu = at.selectbox(key=next(k for k in keys if k.endswith("_psu")))
    stratum = at.selectbox(key=next(k for k in keys if k.endswith("_stratum")))
    assert psu.value == "SERIAL" and stratum.value == "STRATA"  # the fallback, said in an info issue
    assert "UNITE_ECH" in psu.options
    psu.set_value("UNITE_ECH")
    button(at, "Check again with this mapping").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Every file can be stored: no problem found."]
    saved = at.session_state["_upload_mappings"][("ipums.csv", _sha(text))]
    profile = MappingProfile.from_yaml(saved)
    assert profile.columns["psu"] == "UNITE_ECH" and profile.columns["stratum"] == "STRATA"
    assert "psu: UNITE_ECH" in saved and "stratum: STRATA" in saved

    # the saved YAML, reused from the command line, stores the clusters as PSUs
    (tmp_path / "ipums.csv").write_text(text)
    (tmp_path / "ipums-mapping.yml").write_text(saved)
    monkeypatch.setenv("MMICD_DATA_DIR", str(Path(app_env.split("///", 1)[1]).parent))
    before = {v.id for v in Store(app_env).datasets()}
    capsys.readouterr()
    assert main(["ingest", str(tmp_path / "ipums.csv"), "--mapping", str(tmp_path / "ipums-mapping.yml"),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "ok" and report["datasets"][0]["layout"] == "microdata"
    store = Store(app_env, data_dir=Path(app_env.split("///", 1)[1]).parent)
    new = [v for v in store.datasets() if v.id not in before]
    assert len(new) == 1
    stored = store.microdata(new[0].id)
    assert stored["psu"].tolist() == clusters != households
