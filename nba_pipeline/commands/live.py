"""``nba-pipeline live GAME_ID``: follow a game live (or a recorded one), a forecast after every
new event, printed and kept in the ledger (``forecast.live_session``).

    nba-pipeline live GAME_ID                       # poll stats.nba.com PlayByPlayV3 every 5 s
    nba-pipeline live GAME_ID --interval 10 --version v1.2.0
    nba-pipeline live GAME_ID --replay playbyplayv3_GAME_ID.json --speed 0 --chart wp.png

``--replay`` plays a recorded PlayByPlayV3 response through the same path, cut into the polls a
live session would have made; ``--speed S`` runs the game clock S times faster (0: as fast as
possible, one poll per game minute). A game not in ``games`` yet (tonight's) takes its teams from
a pulled schedule (so the pregame forecast comes before tip-off), else from the feed once both
teams have acted, and its date from ``--date``; its team features are computed from the games before
it, as the daily run computes them, leaving out the players known to be out (an import, a stored
inactive list, who missed the team's latest game). Every forecast names those players in the
ledger; a game of the ``games`` table (a replay) names who of the rotation did not play it, as its
stored features left out. A malformed recording is refused, naming the file and the field, before
anything is written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Iterator

import pandas as pd
import sqlalchemy as sa
import torch

from nba_pipeline import settings
from nba_pipeline.forecast.availability import OutPlayer, availability_of
from nba_pipeline.forecast.chart import chart_from_updates
from nba_pipeline.forecast.daily import games_to_come, out_names, pregame_context
from nba_pipeline.forecast.game import GameForecaster
from nba_pipeline.forecast.live_game import LiveGame
from nba_pipeline.forecast.live_session import (
    DEFAULT_INTERVAL_S,
    EASTERN,
    LiveSession,
    fetch_pbp_v3,
    follow,
    game_from_response,
    replay_polls,
)
from nba_pipeline.sources.lines_csv import team_ids
from nba_pipeline.sources.odds import utcnow
from nba_pipeline.sources.pbp_v3 import convert_pbp_v3


def main(argv: list[str] | None = None) -> int:
    """Follow the game (or replay it) to its end; exit 2 on a model or replay that cannot be read."""
    ap = argparse.ArgumentParser(
        prog="nba-pipeline live",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("game_id")
    ap.add_argument("--replay", metavar="RESPONSE.json", help="play a recorded PlayByPlayV3 response")
    ap.add_argument("--speed", type=float, default=0.0, help="replay speed (game clock x S; 0 = no wait)")
    ap.add_argument("--interval", type=float, default=DEFAULT_INTERVAL_S, help="seconds between polls")
    ap.add_argument("--version", default="latest", help="registry version (default: the promoted one)")
    ap.add_argument("--chart", metavar="OUT.png", help="write the win-probability chart at the end")
    ap.add_argument("--no-ledger", action="store_true", help="do not write the forecasts to the ledger")
    ap.add_argument(
        "--date", help="game date (YYYY-MM-DD) of a game not in the games table (default today, ET)"
    )
    ap.add_argument("--max-polls", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    gid = args.game_id
    replay = None
    if args.replay:
        try:  # the whole recording is checked before anything is loaded or written
            with open(args.replay, encoding="utf-8") as f:
                replay = json.load(f)
            convert_pbp_v3(replay)
        except (OSError, ValueError) as e:  # V3FormatError is a ValueError naming the field
            print(f"error: cannot read the replay {args.replay}: {e}", file=sys.stderr)
            return 2
    torch.set_num_threads(1)  # one game's batch of one: a second thread only adds contention
    try:
        forecaster = GameForecaster.from_registry(args.version)
    except Exception as e:  # noqa: BLE001 - any registry problem ends the command with its message
        print(f"cannot load model {args.version}: {e}", file=sys.stderr)
        return 2
    if replay is not None:
        polls: Iterator[dict] | Callable[[], dict] = replay_polls(replay, args.speed, args.interval)
    else:
        polls = lambda: fetch_pbp_v3(gid)  # noqa: E731
    played = True
    try:
        row = forecaster.game_row(gid)
    except KeyError:
        played = False
        # Not ingested yet (a game of today): teams from a pulled schedule (known before tip-off),
        # else from the feed; date from --date.
        date = pd.Timestamp(args.date).date() if args.date else pd.Timestamp.now(tz=EASTERN).date()
        row = _scheduled_row(forecaster.engine, gid, date)
        origin = "the pulled schedule" if row is not None else "the feed"
        if row is None and replay is not None:
            row = game_from_response(replay, gid, date)
        while row is None and replay is None:
            try:
                row = game_from_response(fetch_pbp_v3(gid), gid, date)
            except Exception as e:  # noqa: BLE001 - retried at the next interval
                print(f"poll failed ({type(e).__name__}: {e})", flush=True)
            if row is None:
                print(f"game {gid}: no play-by-play yet; polling again in {args.interval:.0f} s", flush=True)
                time.sleep(args.interval)
        if row is None:
            print(
                f"cannot forecast {gid}: not in the games table and no team in the response", file=sys.stderr
            )
            return 2
        print(
            f"game {gid} is not in the games table: teams from {origin}, date {date}, team features "
            "from the games before it"
        )
    live = forecaster.open_game(gid, game=row)
    out = _who_is_out(forecaster, live, row, played)
    session = LiveSession(
        live,
        source="replay" if args.replay else "live",
        ledger_engine=None if args.no_ledger else forecaster.engine,
        home=str(row["home_team_abbr"]),
        away=str(row["away_team_abbr"]),
        out_players=out,
    )
    print(
        f"{session.away} at {session.home}, {pd.Timestamp(row['game_date']).date()}, game {gid}, "
        f"model {forecaster.model.version}" + (f", replay of {args.replay}" if args.replay else ""),
        flush=True,
    )
    print(f"out: {out_names(out)}", flush=True)
    try:
        follow(session, polls, args.interval, max_polls=args.max_polls)
    except KeyboardInterrupt:
        print(f"stopped after {len(session.updates)} forecasts")
    if args.chart:
        chart_from_updates(session.updates, session.home, session.away, path=args.chart)
        print(f"chart written to {args.chart}")
    return 0


def _who_is_out(
    forecaster: GameForecaster, live: LiveGame, row: pd.Series, played: bool
) -> tuple[OutPlayer, ...]:
    """Who the game is without, as known now (``forecast.availability``). A game to come gets the
    team features the daily run computes for it, leaving those players out
    (``forecast.daily.pregame_context``); a game of the ``games`` table was played, and its stored
    features left out who of the rotation did not play it."""
    cols = ["game_id", "game_date", "season", "home_team_id", "away_team_id"]
    game = pd.DataFrame([{c: row[c] for c in cols}]).assign(origin="games" if played else "schedule")
    availability = availability_of(forecaster.engine, game, utcnow(), played=played)
    if not played:
        ctx = pregame_context(forecaster.engine, game, availability)
        live.lookup.use_context(ctx.values[str(row["game_id"])], ctx.lines)
    return availability.of(str(row["game_id"])).players()


def _scheduled_row(engine: sa.Engine, game_id: str, date: dt.date) -> pd.Series | None:
    """The game's row (as ``game_from_response`` gives it) from a pulled schedule of ``date``
    (``forecast.daily.games_to_come``), which knows the teams before tip-off; None when no pulled
    schedule has it."""
    games = games_to_come(engine, settings.pulled_dir(), date, 1)
    mine = games[(games["game_id"] == game_id) & (games["origin"] == "schedule")]
    if mine.empty:
        return None
    g = mine.iloc[0]
    abbr = {team: name for name, team in team_ids().items() if not name.isdigit()}
    home, away = int(g["home_team_id"]), int(g["away_team_id"])
    return pd.Series(
        {
            "game_id": game_id,
            "season": str(g["season"]),
            "game_date": g["game_date"],
            "home_team_id": home,
            "away_team_id": away,
            "home_team_abbr": abbr.get(home, str(home)),
            "away_team_abbr": abbr.get(away, str(away)),
        }
    )
