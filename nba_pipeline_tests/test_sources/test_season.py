"""A season pulled as the raw contract: games rows from the recorded LeagueGameLog 2025-26, the pull
end to end (quirks counted, reruns fetch only what is missing), the [shipped, pulled] raw dirs, the
command line."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from nba_pipeline.analytics.team_features import build_team_game_features
from nba_pipeline.commands import convert_pbp_v3, pull
from nba_pipeline.ingest.games import build_games
from nba_pipeline.ingest.plays import build_plays
from nba_pipeline.ingest.raw import GAME_COLUMNS, raw_path, read_raw, seasons_in
from nba_pipeline.sources.games import GAMES_FILE_COLUMNS, games_from_gamelog, scoreboard_frame
from nba_pipeline.sources.season import pull_season

from .conftest import GAME, synthetic_pbp

SEASON = "2025-26"
NEUTRAL_BOTH_AWAY = ["0022500147", "0022500578", "0022500602", "0022501229", "0022501230"]


def test_games_rows_from_the_recorded_gamelog(gamelog, nba_raw_dir):
    games, info = games_from_gamelog(gamelog, SEASON)
    rows = gamelog["resultSets"][0]["rowSet"]
    assert len(games) == len(rows) // 2 == 844
    assert info["one_sided"] == []
    assert str(games["game_date"].min()) == "2025-10-21" and str(games["game_date"].max()) == "2026-02-21"
    # same columns and dtypes as the shipped games.parquet (quarter points nullable until pulled)
    shipped = pd.read_parquet(nba_raw_dir / "games.parquet").head(0)
    assert list(games.columns) == list(shipped.columns) == GAMES_FILE_COLUMNS
    nullable = {c for c in games.columns if c.startswith("pts_qtr") or c.startswith("pts_ot")}
    for c in shipped.columns:
        want = "Int64" if c in nullable else str(shipped[c].dtype)
        assert str(games[c].dtype) == want, c
    # neutral-site games read "@" on both rows: flagged, their home side guessed without a schedule
    assert info["home_guessed"] == NEUTRAL_BOTH_AWAY
    assert games.loc[games["neutral_site"], "game_id"].tolist() == sorted(
        NEUTRAL_BOTH_AWAY, key=lambda g: (games.set_index("game_id").at[g, "game_date"], g)
    )
    semis = games.loc[games["game_type"] == "nba_cup_semi", "game_id"].tolist()
    assert semis == ["0022501229", "0022501230"]
    assert build_games(games, SEASON)["is_regular_season"].all()
    # points and the winner agree with the log's own rows
    log = pd.DataFrame(rows, columns=gamelog["resultSets"][0]["headers"]).set_index(["GAME_ID", "TEAM_ID"])
    g = games.set_index("game_id")
    for side in ("home", "road"):
        pts = log.loc[list(zip(g.index, g[f"team_id_{side}"], strict=True)), "PTS"].to_numpy()
        assert (pts == g[f"pts_{side}"].to_numpy()).all()
    assert ((g["pts_home"] > g["pts_road"]) == (g["wl_home"] == "W")).all()


def test_pregame_team_features_as_of_each_date(gamelog, tmp_path, nba_raw_dir):
    games, _ = games_from_gamelog(gamelog, SEASON)
    pulled = tmp_path / "pulled"
    pulled.mkdir()
    games.to_parquet(pulled / f"games_{SEASON}.parquet", index=False)
    raw = read_raw([nba_raw_dir, pulled], "games")
    assert set(raw["season"]) >= {"2023-24", SEASON}
    g = build_games(raw, SEASON)
    assert len(g) == 844
    prev = build_games(raw, "2023-24")
    feats = build_team_game_features(pd.concat([prev, g], ignore_index=True))
    f = feats[feats["season"] == SEASON]
    assert len(f) == 2 * 844
    cols = ["ortg_z", "drtg_z", "efg", "tov_pct", "orb_pct", "ft_rate", "rest_days", "travel_miles"]
    assert np.isfinite(f[cols].to_numpy(float)).all()
    # as of each date: the features of a date's games do not change when later games are removed
    day = sorted(g["game_date"].unique())[len(g["game_date"].unique()) // 2]
    cut = build_team_game_features(pd.concat([prev, g[g["game_date"] <= day]], ignore_index=True))
    a = f[pd.to_datetime(f["game_date"]).dt.date == day].sort_values(["game_id", "team_id"])[cols]
    b = cut[(cut["season"] == SEASON) & (pd.to_datetime(cut["game_date"]).dt.date == day)]
    b = b.sort_values(["game_id", "team_id"])[cols]
    assert len(a) > 0
    np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float))


def test_schedule_and_scoreboard_frames(nba_api_dir):
    sb = json.loads((nba_api_dir / "responses" / "scoreboardv3_2025-11-05.json").read_text())
    day = scoreboard_frame(sb)
    assert len(day) == len(sb["scoreboard"]["games"]) > 0
    assert set(day["status"]) == {"final"} and (day["game_date"] == dt.date(2025, 11, 5)).all()
    first = sb["scoreboard"]["games"][0]
    assert day.iloc[0]["home_team_id"] == first["homeTeam"]["teamId"]


# ---- the pull, end to end, through nba_api's client with a fake transport ----


def test_pull_writes_the_raw_contract_and_counts_the_quirks(pull_setup, nba_raw_dir):
    s = pull_setup
    lines: list[str] = []
    rep = pull_season(SEASON, s["pulled"], s["client"](), progress=lines.append)
    assert rep.games_in_log == 3 and rep.games_finished == 3
    assert rep.games_pulled == 2
    assert rep.games_without_pbp == ["0022500002"]
    assert rep.home_side_swapped == ["0022500147"]
    assert rep.teams_disagree == [] and rep.neutral_home_guessed == []
    assert rep.score_mismatch == []  # pbp final scores equal the log's, the swapped game included
    assert rep.games_scheduled == 2
    # 2 season requests, 3 pbp (+1 retry of the empty one), 2 box scores
    assert rep.requests == 2 + 3 + 1 + 2
    assert any("games 3/3" in x and "requests" in x and "left ~" in x for x in lines)

    pulled = s["pulled"]
    dirs = [nba_raw_dir, pulled]
    assert SEASON in seasons_in(dirs) and "2022-23" in seasons_in(dirs)
    assert raw_path(dirs, "pbp", SEASON) == pulled / f"pbp_{SEASON}.parquet"
    pbp = read_raw(dirs, "pbp", SEASON)
    assert set(pbp["GAME_ID"]) == {"0022500001", "0022500147"}
    raw_games = read_raw(dirs, "games")
    games = build_games(raw_games, SEASON)
    assert len(games) == 3
    plays, prep = build_plays(pbp, read_raw(dirs, "lineups", SEASON), SEASON)
    assert prep.games == 2 and prep.score_rows_disagreeing == 0
    final = plays.sort_values("seq").groupby("game_id").tail(1).set_index("game_id")
    # the recorded game is CLE 145 (home) - CHI 134: relabelled OKC-HOU, and DAL-DET swapped to DET home
    assert (int(final.at["0022500001", "home_score"]), int(final.at["0022500001", "away_score"])) == (
        145,
        134,
    )
    assert (int(final.at["0022500147", "home_score"]), int(final.at["0022500147", "away_score"])) == (
        134,
        145,
    )
    g = pd.read_parquet(pulled / f"games_{SEASON}.parquet").set_index("game_id")
    assert g.at["0022500147", "team_id_home"] == 1610612765 and bool(g.at["0022500147", "neutral_site"])
    q = [f"pts_qtr{i}_home" for i in (1, 2, 3, 4)] + ["pts_ot_total_home"]
    assert int(g.loc["0022500001", q].sum()) == 145 and int(g.at["0022500001", "pts_ot_total_home"]) == 15
    assert g.loc["0022500002", q].isna().all()
    sched = pd.read_parquet(pulled / f"schedule_{SEASON}.parquet")
    assert list(sched.columns) == ["game_id", "game_date", "home_team_id", "away_team_id", "status"]
    assert sched["game_id"].tolist() == ["0022500900", "0022500901"]
    assert (sched["status"] == "scheduled").all()
    shots = read_raw(dirs, "shots", SEASON)
    assert len(shots) == rep.shots == 2 * 187 and set(shots["GAME_ID"]) == {"0022500001", "0022500147"}
    cached = sorted(p.relative_to(pulled).as_posix() for p in pulled.rglob("*.json"))
    assert not any("0022500002" in c for c in cached)  # the empty answer is not kept
    assert not list(pulled.rglob("*.tmp"))

    # rerun: the season responses are fresh in the cache; only the game still missing is asked for
    # (twice: an empty answer is retried); once it has play-by-play it comes in
    rerun = pull_season(SEASON, s["pulled"], s["client"](), progress=None)
    assert rerun.requests == 2 and rerun.games_without_pbp == ["0022500002"]
    s["bodies"][("playbyplayv3", "0022500002")] = synthetic_pbp(
        s["bodies"][("playbyplayv3", "0022500001")], "0022500002", 1610612747, 1610612744
    )
    third = pull_season(SEASON, s["pulled"], s["client"](), progress=None)
    assert third.games_pulled == 3 and third.games_without_pbp == []
    assert third.requests == 2  # its pbp, and its box score (404 here: not retried, counted missing)
    assert third.boxes_missing == ["0022500002"]


def test_pull_without_a_schedule_takes_the_neutral_home_side_from_the_pbp(pull_setup):
    s = pull_setup
    del s["bodies"][("scheduleleaguev2", SEASON)]
    rep = pull_season(SEASON, s["pulled"], s["client"](), progress=None)
    assert rep.home_side_swapped == [] and rep.neutral_home_guessed == []
    g = pd.read_parquet(s["pulled"] / f"games_{SEASON}.parquet").set_index("game_id")
    assert g.at["0022500147", "team_id_home"] == 1610612742  # DAL, the pbp's home side
    assert not (s["pulled"] / f"schedule_{SEASON}.parquet").exists()


def test_pull_unreachable_names_the_endpoint_and_keeps_the_cache(pull_setup, monkeypatch, capsys):
    import requests
    from nba_api.stats.library.http import NBAStatsHTTP

    s = pull_setup
    pull_season(SEASON, s["pulled"], s["client"](), progress=None)
    before = {p: p.read_bytes() for p in s["pulled"].rglob("*") if p.is_file()}

    class NoNetwork:
        def get(self, **kw):
            raise requests.ConnectionError("Failed to resolve 'stats.nba.com'")

    monkeypatch.setattr(NBAStatsHTTP, "get_session", classmethod(lambda cls: NoNetwork()))
    args = ["--season", SEASON, "--out", str(s["pulled"]), "--delay", "0", "--retries", "0"]
    assert pull.main(args) == 3
    err = capsys.readouterr().err
    # the season responses are fresh in the cache; the game never fetched needs the network
    assert "stats.nba.com unreachable for playbyplayv3 0022500002: connection failed" in err
    after = {p: p.read_bytes() for p in s["pulled"].rglob("*") if p.is_file()}
    assert after == before
    # offline: rebuilt from the cache alone, the missing game left out and counted
    assert pull.main([*args, "--offline"]) == 0
    out = capsys.readouterr().out
    rep = json.loads(out[out.index("{\n") :])
    assert rep["games_without_pbp"] == ["0022500002"] and rep["games_pulled"] == 2 and rep["requests"] == 0


def test_cli_convert_pbp_v3(nba_api_dir, tmp_path, capsys):
    out = tmp_path / "game.parquet"
    rc = convert_pbp_v3.main(
        [str(nba_api_dir / "responses" / f"playbyplayv3_{GAME}.json"), "--out", str(out)]
    )
    assert rc == 0
    df = pd.read_parquet(out)
    assert len(df) == 546 and df["GAME_ID"].unique().tolist() == [GAME]
    bad = tmp_path / "bad.json"
    bad.write_text('{"resultSets": []}')
    assert convert_pbp_v3.main([str(bad), "--out", str(tmp_path / "x.parquet")]) == 1
    assert f"{bad}: response #0: no 'game' object" in capsys.readouterr().err


# ---- [shipped, pulled] raw dirs ----


def test_raw_readers_accept_one_dir_or_a_sequence(nba_raw_dir, tmp_path):
    pulled = tmp_path / "pulled"
    pulled.mkdir()
    one = read_raw(nba_raw_dir, "games")
    assert read_raw(str(nba_raw_dir), "games").equals(one)
    assert seasons_in(nba_raw_dir) == seasons_in([nba_raw_dir, pulled])
    assert raw_path(nba_raw_dir, "pbp", "2022-23") == nba_raw_dir / "pbp_2022-23.parquet"
    # the first dir holding a file wins
    fake = pd.read_parquet(nba_raw_dir / "pbp_2022-23.parquet").head(10)
    fake.to_parquet(pulled / "pbp_2022-23.parquet", index=False)
    assert len(read_raw([nba_raw_dir, pulled], "pbp", "2022-23")) > 10
    assert len(read_raw([pulled, nba_raw_dir], "pbp", "2022-23")) == 10
    # games: games.parquet + games_<season>.parquet; a game already read keeps its first row
    extra = one[one["season"] == "2023-24"].head(3).copy()
    dupe = extra.iloc[:1].copy()
    dupe["pts_home"] = -1
    extra = extra.iloc[1:].assign(game_id=["0029900001", "0029900002"], season="2099-00")
    pd.concat([dupe, extra]).to_parquet(pulled / "games_2099-00.parquet", index=False)
    both = read_raw([nba_raw_dir, pulled], "games")
    assert len(both) == len(one) + 2
    assert (both["pts_home"] >= 0).all()
    assert list(both.columns) == list(GAME_COLUMNS)
    assert read_raw([tmp_path / "nowhere"], "games") is None


def test_python_dash_m_nba_pipeline_runs_a_command(nba_api_dir, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "g.parquet"
    src = nba_api_dir / "responses" / f"playbyplayv3_{GAME}.json"
    r = subprocess.run(
        [sys.executable, "-m", "nba_pipeline", "convert-pbp-v3", str(src), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "546 rows" in r.stdout and len(pd.read_parquet(out)) == 546
    r = subprocess.run([sys.executable, "-m", "nba_pipeline", "pull"], capture_output=True, text=True)
    assert r.returncode == 2 and "--season" in r.stderr  # argparse: the season is required


def test_scoreboards_replayed(replay, tmp_path):
    from nba_pipeline.sources.client import ApiSettings, StatsClient
    from nba_pipeline.sources.season import schedule_from_scoreboards

    # the recorded ScoreboardV3 of 2025-11-05, replayed through nba_api's client
    client = StatsClient(tmp_path / "sb", ApiSettings(delay_s=0))
    with replay.use_cassette("scoreboardv3_2025-11-05.yaml"):
        day = schedule_from_scoreboards(client, dt.date(2025, 11, 5), 1)
    assert len(day) > 0 and client.requests_made == 1
    assert (day["game_date"] == dt.date(2025, 11, 5)).all()


def test_without_schedule_the_upcoming_games_come_from_scoreboards(pull_setup):
    # in a pull: ScheduleLeagueV2 fails, the next days' scoreboards give the games not yet played
    s = pull_setup
    del s["bodies"][("scheduleleaguev2", SEASON)]
    game = {"gameId": "0022500950", "gameStatus": 1, "isNeutral": False}
    game |= {"homeTeam": {"teamId": 1610612760}, "awayTeam": {"teamId": 1610612742}}
    s["bodies"][("scoreboardv3", "2026-03-01")] = {"scoreboard": {"gameDate": "2026-03-01", "games": [game]}}
    s["bodies"][("scoreboardv3", "2026-03-02")] = {"scoreboard": {"gameDate": "2026-03-02", "games": []}}
    rep = pull_season(
        SEASON, s["pulled"], s["client"](), progress=None, scoreboard_days=2, today=dt.date(2026, 3, 1)
    )
    sched = pd.read_parquet(s["pulled"] / f"schedule_{SEASON}.parquet")
    assert sched["game_id"].tolist() == ["0022500950"] and rep.games_scheduled == 1
    assert sched.iloc[0]["home_team_id"] == 1610612760 and sched.iloc[0]["status"] == "scheduled"
