"""``python -m bench.benchmarks``: see :mod:`bench.benchmarks.cli` (``scripts/bench`` runs it)."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
