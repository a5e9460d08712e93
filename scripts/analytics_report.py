"""Lineup reconstruction agreement and RAPM out-of-sample R^2 per season.

See nba_pipeline.analytics.report for what is printed."""

from nba_pipeline.analytics.report import main

if __name__ == "__main__":
    raise SystemExit(main())
