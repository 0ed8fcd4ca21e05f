"""The web layer: FastAPI JSON routes, HTML pages, auth and error rendering — thin, over workflow services."""
