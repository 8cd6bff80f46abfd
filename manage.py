#!/usr/bin/env python
"""Django's command line for a checkout; the installed `sesshu` console script does the same."""

import sys

from sesshu.cli import main

if __name__ == "__main__":
    sys.exit(main())
