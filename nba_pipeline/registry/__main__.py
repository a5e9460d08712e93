"""``python -m nba_pipeline.registry list|show|compare|promote``."""

import sys

from nba_pipeline.registry.cli import main

sys.exit(main())
