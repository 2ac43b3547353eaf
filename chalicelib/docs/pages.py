"""The HTML of `/docs` and `/redoc`, and the assets they load (all served by the API itself).

The asset versions are pinned in the Makefile (`DOCS_ASSETS`), which fetches them from npm into
`chalicelib/docs/assets/`: Swagger UI 5 renders OpenAPI 3.1 (Swagger UI 4, as PyPI's
`swagger-ui-bundle` ships, does not), and ReDoc 2's standalone bundle is a classic script (ReDoc
3's loads only as a module). No page names another host, so both work offline.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

ASSETS_DIR = Path(__file__).parent / "assets"
# name served at /docs/assets/{name} -> its media type
ASSETS = {
    "swagger-ui-bundle.js": "application/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "application/javascript",
}


@cache
def asset(name: str) -> bytes | None:
    """The asset's bytes (read once per process); None when it is not one of ours (or was never
    fetched)."""
    if name not in ASSETS:
        return None
    path = ASSETS_DIR / name
    return path.read_bytes() if path.is_file() else None


def swagger_ui(spec_url: str, assets_url: str) -> str:
    spec, assets = html.escape(spec_url, quote=True), html.escape(assets_url, quote=True)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Turnstile API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: "{spec}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  validatorUrl: null
}});
</script>
</body>
</html>
"""


def redoc(spec_url: str, assets_url: str) -> str:
    spec, assets = html.escape(spec_url, quote=True), html.escape(assets_url, quote=True)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Turnstile API</title>
<link rel="icon" href="data:,">
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<redoc spec-url="{spec}" hide-download-button="false"></redoc>
<script src="{assets}/redoc.standalone.js"></script>
</body>
</html>
"""
