"""The `sesshu` console script: Django's management commands under the product's name.

`sesshu seed --residents 20000 --seed 1`, `sesshu audit verify`, `sesshu migrate`, ...
"""

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sesshu.settings.demo")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["sesshu", *(sys.argv[1:] if argv is None else argv)])
    return 0
