"""The frozen bundle's entry point: exactly the `wootric-desk` console command."""

from __future__ import annotations

import sys

from desktop_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
