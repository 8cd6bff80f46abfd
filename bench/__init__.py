"""The benchmark suite: `make bench` (full sizes) and `make bench-quick` (a few minutes).

Each figure is one JSON object per line on stdout: {"name", "value", "unit", "n", "db"}. Figures that
depend on the database are measured on SQLite and on PostgreSQL, each in a fresh database.
"""
