"""The published contract: `/openapi.json`, and Swagger UI (`/docs`) and ReDoc (`/redoc`) served
from pinned assets in `assets/` (fetched from npm by `make install`), never from a CDN."""
