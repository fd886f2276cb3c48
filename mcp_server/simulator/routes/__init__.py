"""Zerobyte's ``/api/v1`` route handlers, one module per resource (``api.py`` holds the table and dispatch)."""
