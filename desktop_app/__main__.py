"""`python -m desktop_app`: the same as the `wootric-desk` command."""

from __future__ import annotations

import sys

from desktop_app.cli import main

sys.exit(main())
