"""records models: see __init__."""

from django.db import models  # noqa: F401

__all__: list[str] = []
