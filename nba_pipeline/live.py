"""``python -m nba_pipeline.live GAME_ID [--replay RESPONSE.json] ...``: nba_pipeline.forecast.live."""

import sys

from nba_pipeline.forecast.live import main

if __name__ == "__main__":
    sys.exit(main())
