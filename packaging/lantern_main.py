"""Frozen entry point (every executable of the bundle): no arguments opens the window,
``--self-test`` checks the install, anything else is the ``lantern`` CLI."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
