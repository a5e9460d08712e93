"""The incremental path (LiveGame) gives the batch path's forecast (GameForecaster.forecast: the
training featurization) at every cut of real games, whatever order the rows arrive in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nba_pipeline_tests.test_forecast.conftest import GAME, SEASON, assert_same_forecast


def test_live_game_equals_the_batch_forecast_at_cuts_of_a_real_game(forecaster, game_rows):
    """Rows fed one at a time in feed (EVENTNUM) order; every 5th cut, every period's last cuts and
    the final cut compared (the replay test compares every cut)."""
    game = forecaster.open_game(GAME)
    n = len(game_rows)
    period_end = set(np.flatnonzero(np.diff(game_rows["PERIOD"].to_numpy())) + 1)
    checked = 0
    for k in range(1, n + 1):
        assert game.add_rows(game_rows.iloc[k - 1 : k]) == 1
        if k % 5 == 0 or k in period_end or k >= n - 3:
            assert_same_forecast(game.forecast(), forecaster.forecast(GAME, game_rows.iloc[:k]), f"cut {k}")
            checked += 1
    assert game.n_events == n and checked > 100


def test_pregame_forecast_with_starters_equals_the_batch_pregame(forecaster, game_rows):
    first = game_rows[game_rows["EVENTNUM"] <= 30]
    plays = forecaster.open_game(GAME)
    plays.add_rows(first)
    court = plays.on_court()[-1]
    starters = ([int(p) for p in court[:5]], [int(p) for p in court[5:]])
    live = forecaster.open_game(GAME, starters=starters).forecast()
    batch = forecaster.forecast(GAME, starters=starters)
    assert live.events_seen == 0
    assert_same_forecast(live, batch, "pregame")
    assert forecaster.open_game(GAME).forecast().p_home_win != pytest.approx(live.p_home_win, abs=1e-7)


def test_rows_arriving_out_of_time_order_are_placed_by_time(forecaster, game_rows):
    """Late rows (shuffled within blocks of 7) land at their time position: the state after each
    block equals the batch on the same rows, and the final state equals the in-order one."""
    rng = np.random.default_rng(0)
    order = np.concatenate([rng.permutation(np.arange(s, min(s + 7, 160))) for s in range(0, 160, 7)])
    game = forecaster.open_game(GAME)
    for s in range(0, len(order), 7):
        for i in order[s : s + 7]:
            game.add_rows(game_rows.iloc[[i]])
        if s % 35 == 0:
            rows = game_rows.iloc[np.sort(order[: s + 7])]
            assert_same_forecast(game.forecast(), forecaster.forecast(GAME, rows), f"block {s}")
    in_order = forecaster.open_game(GAME)
    in_order.add_rows(game_rows.iloc[:160])
    assert_same_forecast(game.forecast(), in_order.forecast(), "final")


def test_repeated_rows_are_ignored_and_a_corrected_row_replaces_the_old_one(forecaster, game_rows):
    game = forecaster.open_game(GAME)
    game.add_rows(game_rows.iloc[:120])
    assert game.add_rows(game_rows.iloc[100:120]) == 0  # a poll repeating rows adds nothing
    assert game.n_events == 120
    made = game_rows.index[(game_rows.index < 120) & (game_rows["EVENTNUM"] > 20)]
    made = [
        i
        for i in made
        if game_rows.loc[i, "EVENTMSGTYPE"] == 1
        and "3PT"
        not in str(game_rows.loc[i, "HOMEDESCRIPTION"]) + str(game_rows.loc[i, "VISITORDESCRIPTION"])
    ]
    fixed = game_rows.iloc[[made[0]]].copy()
    col = "HOMEDESCRIPTION" if pd.notna(fixed["HOMEDESCRIPTION"].iloc[0]) else "VISITORDESCRIPTION"
    fixed[col] = fixed[col] + " 3PT"  # the feed corrects a two into a three
    before = game.cut()
    assert game.add_rows(fixed) == 0
    after = game.cut()
    assert after.home_score + after.away_score == before.home_score + before.away_score + 1
    rows = pd.concat([game_rows.iloc[:120].drop(index=made[0]), fixed])
    assert_same_forecast(game.forecast(), forecaster.forecast(GAME, rows), "after correction")


def test_rebuilt_lineups_equal_reconstruct_lineups_on_every_slice_game(forecaster, slice_env):
    """The per-period lineup rebuild equals analytics.stints.reconstruct_lineups (through
    complete_lineups, as the batch path runs it) on whole games and on a mid-game prefix."""
    from nba_pipeline.analytics.stints import complete_lineups
    from nba_pipeline.db import read_table
    from nba_pipeline.ingest.plays import build_plays
    from nba_pipeline.ingest.schema import ON_COURT

    pbp = pd.read_parquet(f"{slice_env['NBA_RAW_DIR']}/pbp_{SEASON}.parquet")
    for gid in sorted(pbp["GAME_ID"].unique())[::6]:
        rows = pbp[pbp["GAME_ID"] == gid].sort_values("EVENTNUM")
        for part in (rows, rows.iloc[: len(rows) // 3]):
            plays, _ = build_plays(part, None, SEASON)
            game = read_table(forecaster.engine, "games", {"game_id": gid})
            expected = complete_lineups(plays, game).sort_values("seq")[ON_COURT].fillna(0).to_numpy(np.int64)
            live = forecaster.open_game(gid, prefetch=False)
            live.add_rows(part)
            np.testing.assert_array_equal(live.on_court(), expected, err_msg=gid)


@pytest.mark.slow
def test_rows_converted_one_at_a_time_agree_with_build_plays_on_games_of_every_season(nba_raw_dir):
    """The live path converts each row as it comes (``event_columns`` on one record, as
    ``LiveGame`` gets it from a poll): the clock, side, points, players and time order are
    build_plays' on real games of every shipped season (quirks differ by season)."""
    from nba_pipeline.ingest.plays import build_plays, event_columns, rows_of_records, time_order

    seasons = sorted(p.name[4:11] for p in nba_raw_dir.glob("pbp_*.parquet"))
    assert seasons
    for season in seasons:
        pbp = pd.read_parquet(nba_raw_dir / f"pbp_{season}.parquet")
        ids = sorted(pbp["GAME_ID"].unique())
        pbp = pbp[pbp["GAME_ID"].isin(ids[:: max(1, len(ids) // 3)])]
        plays, _ = build_plays(pbp, None, season)
        raw = pbp.drop_duplicates()
        rows = [event_columns(rows_of_records([record])) for record in raw.to_dict("records")]
        got = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
        order = time_order(got["game_id"], got["period"], got["clock_seconds"], got["event_num"])
        exp = plays.sort_values(["game_id", "seq"])
        for col in ("event_num", "period", "event_type", "side", "points", "clock_seconds", "game_seconds"):
            np.testing.assert_array_equal(got[col][order], exp[col].to_numpy(), err_msg=f"{season} {col}")
        for col in ("player1_id", "player3_id"):
            np.testing.assert_array_equal(
                got[col][order], exp[col].fillna(0).to_numpy(np.int64), err_msg=f"{season} {col}"
            )


def test_live_in_game_state_equals_the_season_arrays_state_at_every_event(forecaster, game_rows):
    """Possession, fouls before the penalty and timeouts left of the live path (rows given as they
    come, out of the ingest) equal what the season arrays hold for the same game."""
    from nba_pipeline.features.in_game_state import state_counts
    from nba_pipeline.ingest.plays import build_plays

    live = forecaster.open_game(GAME, prefetch=False)
    live.add_rows(game_rows)
    plays, _ = build_plays(game_rows, None, SEASON)
    expected = state_counts(plays.sort_values("seq", kind="stable").reset_index(drop=True))
    got = state_counts(live.plays())
    np.testing.assert_array_equal(got, expected)
    assert (got[:, 2:4] == 0).any() and (got[:, 4:6] < 7).any()  # the game reaches a penalty and timeouts


def test_live_game_reads_postgresql_as_sqlite(forecaster, game_rows, postgres_url):
    """The as-of reads (driver cursor, casts, the players' earlier games) agree on PostgreSQL."""
    import sqlalchemy as sa

    from nba_pipeline.db import create_tables, make_engine, metadata, read_table, replace_rows
    from nba_pipeline.forecast.game import GameForecaster

    pg = make_engine(postgres_url)
    names = ["games", "plays", "player_game_stats", "player_features", "team_game_features"]
    create_tables(pg, [metadata.tables[n] for n in names])
    for n in names:
        replace_rows(pg, metadata.tables[n], read_table(forecaster.engine, n), {})
    on_pg = GameForecaster(forecaster.model, pg)
    a, b = forecaster.open_game(GAME), on_pg.open_game(GAME)
    for k in (1, 60, 250, len(game_rows)):
        a.add_rows(game_rows.iloc[:k])
        b.add_rows(game_rows.iloc[:k])
        assert_same_forecast(b.forecast(), a.forecast(), f"cut {k}")
    assert len(b.lookup._games_read) == len(a.lookup._games_read) > 0
    with pg.begin() as c:
        c.execute(sa.text("DROP TABLE " + ", ".join(names)))
