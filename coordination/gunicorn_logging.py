"""gunicorn's access log without personal data (``make run``: ``--logger-class``).

gunicorn writes each request line (``%(r)s``), its query string (``%(q)s``), the
referring page (``%(f)s``) and any header or environ variable a format names. A
GET lookup's ``?value=6217...`` or a search's ``?q=139...`` would land there in
full. Here every such atom goes through ``coordination.logs.redact_uri``: a query
that names an identifier key is dropped (the path stays), any other is masked;
and every handler gunicorn sets up gets ``MaskPersonalData``.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from .logs import mask_every_handler, mask_text, redact_uri

_URI_HEADERS = ("{referer}i", "{raw_uri}e", "{request_uri}e")


class AccessLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        mask_every_handler()

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        raw = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
        uri = redact_uri(raw)
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {uri} {environ.get('SERVER_PROTOCOL')}"
        atoms["U"] = mask_text(environ.get("PATH_INFO") or "")
        atoms["q"] = uri.partition("?")[2]
        atoms["f"] = redact_uri(environ.get("HTTP_REFERER", "-"))
        for key in _URI_HEADERS:
            if key in atoms:
                atoms[key] = redact_uri(str(atoms[key]))
        if "{query_string}e" in atoms:
            atoms["{query_string}e"] = atoms["q"]
        return atoms
