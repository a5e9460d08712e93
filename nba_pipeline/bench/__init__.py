"""Benchmarks (``nba-pipeline bench``): ``stages`` times every stage of one season in its own
process; ``model`` the model's evaluation and training hot paths; ``source`` a season's pull and
ingest from an on-disk cache; ``backfill`` serial against parallel seasons through Dagster on
PostgreSQL."""
