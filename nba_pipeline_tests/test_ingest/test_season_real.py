"""Checks of the issue on the real 2023-24 season, ingested once through the Dagster assets."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from nba_pipeline.db import make_engine, read_table


def _q(url: str, sql: str) -> pd.DataFrame:
    with make_engine(url).connect() as conn:
        return pd.read_sql(sa.text(sql), conn)


def test_final_scores_in_plays_equal_games_for_every_regular_season_game(season_db_url):
    final = _q(
        season_db_url,
        """SELECT p.game_id, p.home_score, p.away_score FROM plays p
           JOIN (SELECT game_id, MAX(seq) AS s FROM plays GROUP BY game_id) m
             ON p.game_id = m.game_id AND p.seq = m.s""",
    ).set_index("game_id")
    games = read_table(make_engine(season_db_url), "games", where={"season": "2023-24"}).set_index("game_id")
    rs = games[games["is_regular_season"].astype(bool)]
    assert len(rs) == 1230
    assert set(rs.index) <= set(final.index), "a regular-season game has no plays"
    f = final.loc[rs.index]
    mismatched = rs.index[(f["home_score"] != rs["home_pts"]) | (f["away_score"] != rs["away_pts"])]
    assert list(mismatched) == []


def test_running_scores_never_decrease(season_db_url):
    drops = _q(
        season_db_url,
        """SELECT COUNT(*) AS n FROM plays a JOIN plays b ON a.game_id = b.game_id AND b.seq = a.seq + 1
           WHERE b.home_score < a.home_score OR b.away_score < a.away_score""",
    )
    assert int(drops["n"].iloc[0]) == 0


def test_player_points_sum_to_final_scores_for_at_least_995_permille_of_games(season_db_url):
    team = _q(
        season_db_url,
        """SELECT s.game_id,
                  SUM(CASE WHEN s.is_home THEN s.pts ELSE 0 END) AS home,
                  SUM(CASE WHEN s.is_home THEN 0 ELSE s.pts END) AS away
           FROM player_game_stats s GROUP BY s.game_id""",
    ).set_index("game_id")
    games = _q(
        season_db_url, "SELECT game_id, home_pts, away_pts FROM games WHERE is_regular_season"
    ).set_index("game_id")
    j = games.join(team, how="left")
    share = ((j["home"] == j["home_pts"]) & (j["away"] == j["away_pts"])).mean()
    assert share >= 0.995, f"only {share:.4f} of games have player points summing to the final score"


def test_seconds_on_court_fill_five_players_for_the_whole_game(season_db_url):
    sec = _q(
        season_db_url,
        """SELECT s.game_id, s.is_home, SUM(s.seconds) AS sec, MAX(p.game_seconds) AS length
           FROM player_game_stats s
           JOIN (SELECT game_id, MAX(game_seconds) AS game_seconds FROM plays GROUP BY game_id) p
             ON p.game_id = s.game_id
           GROUP BY s.game_id, s.is_home""",
    )
    ratio = sec["sec"] / (5 * sec["length"])
    assert ((ratio - 1).abs() < 0.01).mean() >= 0.99


def test_plus_minus_of_a_team_is_five_times_its_margin(season_db_url):
    pm = _q(
        season_db_url,
        """SELECT s.game_id, SUM(s.plus_minus) AS pm, g.home_pts - g.away_pts AS margin
           FROM player_game_stats s JOIN games g ON g.game_id = s.game_id
           WHERE s.is_home GROUP BY s.game_id, g.home_pts, g.away_pts""",
    )
    assert ((pm["pm"] == 5 * pm["margin"]).mean()) >= 0.99


def test_lineups_cover_every_event_of_a_season_with_a_lineups_file(season_db_url):
    cov = _q(season_db_url, "SELECT lineup_source, COUNT(*) AS n FROM plays GROUP BY lineup_source")
    counts = dict(zip(cov["lineup_source"], cov["n"], strict=True))
    assert None not in counts
    assert counts["file"] > 0.8 * sum(counts.values())


def test_shots_match_pbp_events(season_db_url):
    r = _q(
        season_db_url,
        """SELECT COUNT(*) AS n, SUM(CASE WHEN p.event_num IS NOT NULL THEN 1 ELSE 0 END) AS matched,
                  SUM(CASE WHEN (p.event_type = 1) = s.made THEN 1 ELSE 0 END) AS agree
           FROM shots s LEFT JOIN plays p ON p.game_id = s.game_id AND p.event_num = s.event_num""",
    )
    n, matched, agree = (int(r[c].iloc[0]) for c in ("n", "matched", "agree"))
    assert n > 200_000
    assert matched / n > 0.999 and agree / n > 0.999


def test_players_have_positions_in_the_five_codes(season_db_url):
    pl = read_table(make_engine(season_db_url), "players")
    assert len(pl) == 1455
    assert set(pl["position"].dropna()) <= {"PG", "SG", "SF", "PF", "C"}
    assert pl["height_in"].notna().mean() > 0.8


def test_final_score_asset_check_passes_on_the_real_season(season_ingest):
    _, checks = season_ingest
    assert checks == {"plays_final_scores_match_games": True}
