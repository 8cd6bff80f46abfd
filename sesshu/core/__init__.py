"""Shared kernel: Japanese text normalization, 和暦 dates, bilingual problems, pagination."""
