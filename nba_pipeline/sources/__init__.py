"""stats.nba.com (V3 endpoints, through the ``nba_api`` package) -> the raw contract files.

Plain Python (no Dagster): ``client`` is the polite, retrying, caching HTTP layer and ``endpoints``
its requests; ``pbp_v3`` converts PlayByPlayV3 responses to PlayByPlayV2 rows (``pbp_v2``: those
rows' columns), ``shots_v3`` their field goals to shots rows, ``games`` the league-wide responses
to games and schedule rows; ``season`` pulls a season into the writable pulled dir
(``nba-pipeline pull``); ``odds`` reads the live CDN's odds feed (tonight's lines), ``line_fetch``
fetches and keeps it, ``lines_csv`` checks a CSV of lines bought elsewhere, ``line_store`` keeps
every line fetched or imported with its time, and ``line_lookup`` says which line a game uses.
"""

from nba_pipeline.sources.pbp_v3 import convert_pbp_v3

__all__ = ["convert_pbp_v3"]
