"""Settings modules: ``demo`` (embedded SQLite, the default), ``production`` and ``test``."""
