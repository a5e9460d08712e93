"""``python -m nba_pipeline COMMAND ...``: the same as the ``nba-pipeline`` console script."""

import sys

from nba_pipeline.commands import main

if __name__ == "__main__":
    sys.exit(main())
