"""An OpenDocument spreadsheet (.ods), written by hand, loads like an .xlsx."""

from __future__ import annotations

import io
import zipfile

from mmicd.ingest import Upload, prepare

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:office_ns="urn:oasis:names:tc:opendocument:xmlns:office:1.0"')


def _cell(v) -> str:
    if isinstance(v, (int, float)):
        return f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'
    return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'


def _ods(rows: list[list]) -> bytes:
    body = "".join("<table:table-row>" + "".join(_cell(v) for v in r) + "</table:table-row>" for r in rows)
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS} office:version="1.2">'
               f'<office:body><office:spreadsheet><table:table table:name="Feuille1">{body}</table:table>'
               "</office:spreadsheet></office:body></office:document-content>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                   'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                   '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/'
                   'vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" '
                   'manifest:media-type="text/xml"/></manifest:manifest>')
    return out.getvalue()


def test_ods_loads():
    data = _ods([["Recensement 2013 (milliers)"], ["Pays", "Année", "Sexe", "Valeur"],
                 ["Sénégal", 2013, "Femmes", 7.0], ["Sénégal", 2013, "Hommes", 6.5]])
    prep = prepare([Upload("recensement.xlsx", data)])  # wrong suffix: the bytes decide
    assert prep.ok, prep.issues
    d = prep.datasets[0]
    assert d.sheet == "Feuille1" and d.frame["value"].tolist() == [7000.0, 6500.0]
    assert d.frame["sex"].tolist() == ["F", "M"] and set(d.frame["unit_mult"]) == {3}
