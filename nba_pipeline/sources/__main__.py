"""``python -m nba_pipeline.sources``: see :mod:`nba_pipeline.sources.cli`."""

import sys

from nba_pipeline.sources.cli import main

sys.exit(main())
