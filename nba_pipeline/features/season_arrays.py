"""Precomputed model inputs of one season: every cut of every game is a slice of these arrays.

:func:`build_season_arrays` runs the three builders once over a whole season (vectorized) and
returns :class:`SeasonArrays`; :meth:`SeasonArrays.save_parts` / :meth:`SeasonArrays.load_parts`
store them as the three model inputs, the Dagster assets ``tokenized_sequences`` /
``lineup_graphs`` / ``context_features``: ``<part>_<season>.npz`` (:func:`part_path`), uncompressed,
read with ``allow_pickle=False``, the build report a JSON string inside, one build id in all three.

Layout (G games, E events, P game-player rows):

- per game ``[G]``: ``game_id``, ``game_date``, ``home_pts``, ``away_pts``, ``context [G,C]``
  (``features.context`` order), ``starters [G,10]`` (local player index of the pregame lineup,
  home slots then away slots, -1 unknown), and offsets ``event_offsets [G+1]``,
  ``player_offsets [G+1]``, ``chem_offsets [G+1]``;
- per event ``[E]`` in (game, seq) order: ``ev_token``, ``ev_time_left``, ``ev_score_diff`` (raw
  points, home minus away), ``ev_score_total`` (points of both teams), ``ev_lineup [E,20]``
  (see ``features.tokenizer``), ``ev_state [E,6]`` (raw in-game state, ``features.in_game_state``),
  ``ev_period``, ``ev_game_seconds``, ``ev_on_court [E,10]`` (local player index, -1 unknown);
- per game player ``[P]`` (every player who was on court in the game, sorted by id within the
  game): ``player_id``, ``player_x [P,16]`` (node features as of the game date), ``player_found``;
- ``chem_minutes``: per game a ``[P_g, P_g]`` matrix (flattened) of minutes each pair of the
  game's players shared on court in games strictly before the game date (this season's plays
  plus any ``prior_pair_minutes`` given).

The pregame lineup ("starters") is the lineup of the first period-1 event with the most known
on-court players (the period-start row itself has a lineup only when ingest carried one back).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nba_pipeline import settings
from nba_pipeline.features.context import CONTEXT_DIM, SOURCE_COLUMNS, ContextFeatureBuilder
from nba_pipeline.features.game_players import (
    chemistry_matrices,
    game_players,
    minutes_before_games,
    season_pair_minutes,
)
from nba_pipeline.features.graphs import (
    NODE_DIM,
    default_node_vector,
    lookup_node_features,
)
from nba_pipeline.features.in_game_state import STATE_DIM
from nba_pipeline.features.tokenizer import (
    LINEUP_DIM,
    EventTokenizer,
    check_columns,
    id_matrix,
)
from nba_pipeline.ingest.schema import ON_COURT

log = logging.getLogger(__name__)
# 3: every file of a season's set carries the set's build id (a kill between the three writes can
# leave files of two builds side by side; load_parts refuses such a set instead of mixing them).
# 4: the context holds the market's line after the 32 features (features.context).
# 5: ev_state, the in-game state after each event (features.in_game_state).
# 6: the strength of the players available after the 32 features, before the line.
FORMAT_VERSION = 6


# The three model inputs, each stored in its own file per season (game_id goes in each).
PARTS: dict[str, tuple[str, ...]] = {
    "sequences": (
        "game_date",
        "home_pts",
        "away_pts",
        "event_offsets",
        "ev_token",
        "ev_time_left",
        "ev_score_diff",
        "ev_score_total",
        "ev_lineup",
        "ev_state",
        "ev_period",
        "ev_game_seconds",
    ),
    "graphs": (
        "starters",
        "player_offsets",
        "chem_offsets",
        "ev_on_court",
        "player_id",
        "player_x",
        "player_found",
        "chem_minutes",
    ),
    "context": ("context",),
}


def part_path(part: str, season: str, base: Path | None = None) -> Path:
    return (base or settings.features_dir()) / f"{part}_{season}.npz"


def _part_paths(directory: Path | str, season: str) -> list[Path]:
    return [part_path(part, season, Path(directory)) for part in PARTS]


@dataclass
class SeasonArrays:
    season: str
    game_id: np.ndarray  # <U10 [G]
    game_date: np.ndarray  # datetime64[D] [G]
    home_pts: np.ndarray  # int32 [G]
    away_pts: np.ndarray  # int32 [G]
    context: np.ndarray  # float32 [G, CONTEXT_DIM]
    starters: np.ndarray  # int16 [G, 10]
    event_offsets: np.ndarray  # int64 [G+1]
    player_offsets: np.ndarray  # int64 [G+1]
    chem_offsets: np.ndarray  # int64 [G+1]
    ev_token: np.ndarray  # int16 [E]
    ev_time_left: np.ndarray  # float32 [E]
    ev_score_diff: np.ndarray  # int16 [E]
    ev_score_total: np.ndarray  # int16 [E] home plus away points after the event
    ev_lineup: np.ndarray  # uint8 [E, 20]
    ev_state: np.ndarray  # int8 [E, 6]
    ev_period: np.ndarray  # int8 [E]
    ev_game_seconds: np.ndarray  # float32 [E]
    ev_on_court: np.ndarray  # int16 [E, 10]
    player_id: np.ndarray  # int64 [P]
    player_x: np.ndarray  # float32 [P, 16]
    player_found: np.ndarray  # bool [P]
    chem_minutes: np.ndarray  # float32 [sum P_g^2]
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def n_games(self) -> int:
        return len(self.game_id)

    @property
    def n_events(self) -> np.ndarray:
        return np.diff(self.event_offsets)

    def chem_matrix(self, g: int) -> np.ndarray:
        n = int(self.player_offsets[g + 1] - self.player_offsets[g])
        return self.chem_minutes[self.chem_offsets[g] : self.chem_offsets[g + 1]].reshape(n, n)

    def validate(self) -> None:
        """Shapes and offsets agree, nothing NaN: raise naming the array."""
        G = self.n_games
        for name in ("game_date", "home_pts", "away_pts", "context", "starters"):
            if len(getattr(self, name)) != G:
                raise ValueError(f"SeasonArrays.{name}: {len(getattr(self, name))} rows, expected {G}")
        for name, total in (
            ("event_offsets", len(self.ev_token)),
            ("player_offsets", len(self.player_id)),
            ("chem_offsets", len(self.chem_minutes)),
        ):
            off = getattr(self, name)
            if len(off) != G + 1 or off[0] != 0 or off[-1] != total or (np.diff(off) < 0).any():
                raise ValueError(f"SeasonArrays.{name} inconsistent with its data ({total} rows)")
        for name in ("context", "player_x", "chem_minutes", "ev_time_left"):
            if not np.isfinite(getattr(self, name)).all():
                raise ValueError(f"SeasonArrays.{name} holds NaN or inf")
        if self.context.shape[1:] != (CONTEXT_DIM,) or self.player_x.shape[1:] != (NODE_DIM,):
            raise ValueError(
                f"SeasonArrays: context is {self.context.shape[1:]} and player_x {self.player_x.shape[1:]}, "
                f"this code builds ({CONTEXT_DIM},) and ({NODE_DIM},): model inputs built by another "
                "version; materialize tokenized_sequences, lineup_graphs and context_features again"
            )

    def save(self, path: Path | str, names: tuple[str, ...] | None = None, build_id: str = "") -> Path:
        """Write one .npz (atomically: a temporary file renamed into place); ``names`` limits it to
        some arrays (``game_id`` and ``build_id`` always included, so split files can be checked
        against each other)."""
        self.validate()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        keep = set(names) | {"game_id"} if names else None
        arrays = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("season", "report") and (keep is None or f.name in keep)
        }
        if "game_date" in arrays:
            arrays["game_date"] = self.game_date.astype("datetime64[D]").astype(np.int64)  # days since epoch
        arrays["season"] = np.array(self.season)
        arrays["report"] = np.array(json.dumps(self.report))
        arrays["format_version"] = np.array(FORMAT_VERSION)
        arrays["build_id"] = np.array(build_id or uuid.uuid4().hex)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path | str) -> SeasonArrays:
        return cls._from_npz([Path(path)])

    def save_parts(self, directory: Path | str) -> dict[str, Path]:
        """The three model inputs as three files (the assets tokenized_sequences, lineup_graphs and
        context_features): ``<part>_<season>.npz`` for each part of :data:`PARTS`, one build id in all."""
        build_id = uuid.uuid4().hex
        return {
            part: self.save(part_path(part, self.season, Path(directory)), names, build_id)
            for part, names in PARTS.items()
        }

    @staticmethod
    def missing_parts(directory: Path | str, season: str) -> list[str]:
        """The files of ``season``'s model inputs that are not in ``directory`` (none: it can load)."""
        return [str(p) for p in _part_paths(directory, season) if not p.exists()]

    @classmethod
    def load_parts(cls, directory: Path | str, season: str) -> SeasonArrays:
        missing = cls.missing_parts(directory, season)
        if missing:
            raise FileNotFoundError(
                f"model inputs of season {season} not found: {missing} (materialize the season's "
                "tokenized_sequences / lineup_graphs / context_features first)"
            )
        return cls._from_npz(_part_paths(directory, season))

    @classmethod
    def _from_npz(cls, paths: list[Path]) -> SeasonArrays:
        kw: dict[str, Any] = {}
        season, report, game_id, build_id = None, {}, None, None
        for path in paths:
            with np.load(path, allow_pickle=False) as z:
                if int(z["format_version"]) != FORMAT_VERSION:
                    raise ValueError(
                        f"{path}: format version {int(z['format_version'])}, expected {FORMAT_VERSION} "
                        "(rebuild the model inputs)"
                    )
                if build_id is not None and str(z["build_id"]) != build_id:
                    raise ValueError(
                        f"{path}: build {z['build_id']} beside build {build_id} of {paths[0]}: the set "
                        "was not written whole (a build stopped between files); rebuild the model inputs"
                    )
                if game_id is not None and not np.array_equal(z["game_id"], game_id):
                    raise ValueError(
                        f"{path}: its games differ from {paths[0]} (files from different builds)"
                    )
                game_id, build_id = z["game_id"], str(z["build_id"])
                season, report = str(z["season"]), json.loads(str(z["report"]))
                meta = ("season", "report", "format_version", "build_id")
                kw.update({k: z[k] for k in z.files if k not in meta})
        names = [f.name for f in fields(cls) if f.name not in ("season", "report")]
        absent = [n for n in names if n not in kw]
        if absent:
            raise ValueError(f"{[str(p) for p in paths]}: arrays {absent} missing")
        kw = {n: kw[n] for n in names}
        kw["game_date"] = kw["game_date"].astype("datetime64[D]")
        out = cls(season=season, report=report, **kw)
        out.validate()
        return out

    def subset(self, games: np.ndarray) -> SeasonArrays:
        """The arrays of some games only (indices, kept in the given order), offsets rebuilt."""
        g = np.asarray(games, dtype=np.int64)
        if len(g) and (g.min() < 0 or g.max() >= self.n_games):
            raise IndexError(f"subset: game indices must be in [0, {self.n_games})")

        def ranges(off: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            lo, hi = off[g], off[g + 1]
            n = hi - lo
            new_off = np.concatenate([[0], np.cumsum(n)]).astype(np.int64)
            idx = np.repeat(lo - new_off[:-1], n) + np.arange(new_off[-1])
            return idx, new_off

        ev, event_offsets = ranges(self.event_offsets)
        pl, player_offsets = ranges(self.player_offsets)
        ch, chem_offsets = ranges(self.chem_offsets)
        kw: dict[str, Any] = {
            "event_offsets": event_offsets,
            "player_offsets": player_offsets,
            "chem_offsets": chem_offsets,
            "chem_minutes": self.chem_minutes[ch],
        }
        for f in fields(self):
            if f.name in kw or f.name in ("season", "report"):
                continue
            arr = getattr(self, f.name)
            if f.name.startswith("ev_"):
                kw[f.name] = arr[ev]
            elif f.name.startswith("player_"):
                kw[f.name] = arr[pl]
            else:
                kw[f.name] = arr[g]
        out = SeasonArrays(season=self.season, report=self.report, **kw)
        out.validate()
        return out

    @classmethod
    def concat(cls, parts: list[SeasonArrays]) -> SeasonArrays:
        """Several seasons as one (offsets shifted); season is the labels joined with '+'."""
        if not parts:
            raise ValueError("concat: no season arrays given")
        if len(parts) == 1:
            return parts[0]

        def offsets(name: str, data: str) -> np.ndarray:
            out, base = [np.zeros(1, np.int64)], 0
            for p in parts:
                out.append(getattr(p, name)[1:] + base)
                base += len(getattr(p, data))
            return np.concatenate(out)

        kw: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in ("season", "report"):
                continue
            if f.name.endswith("_offsets"):
                data = {
                    "event_offsets": "ev_token",
                    "player_offsets": "player_id",
                    "chem_offsets": "chem_minutes",
                }
                kw[f.name] = offsets(f.name, data[f.name])
            else:
                kw[f.name] = np.concatenate([getattr(p, f.name) for p in parts])
        return cls(season="+".join(p.season for p in parts), report={p.season: p.report for p in parts}, **kw)


def build_season_arrays(
    plays: pd.DataFrame,
    games: pd.DataFrame,
    player_features: pd.DataFrame | None,
    team_game_features: pd.DataFrame | None,
    season: str | None = None,
    prior_pair_minutes: pd.DataFrame | None = None,
    node_defaults: dict[str, float] | None = None,
    context_defaults: dict[str, float] | None = None,
    betting_lines: pd.DataFrame | None = None,
) -> SeasonArrays:
    """All model inputs of the games in ``plays`` (one season, or any set of games).

    ``games`` needs game_id, game_date, home_pts, away_pts for every game in ``plays``. Games
    are stored in (game_date, game_id) order, so a temporal split is a split of game indices.
    ``player_features`` / ``team_game_features`` may be None when the analytics tables are not
    built: every node then takes the documented defaults / every context value its default, and
    the report says so (``player_features_missing`` / ``team_game_features_missing``) with a
    logged warning. ``prior_pair_minutes`` (shared_minutes_by_game rows with game_date) adds
    earlier seasons to the chemistry minutes. ``betting_lines`` rows give the context's line dims
    (None: no game has a line).
    """
    order = _games_in_order(plays, games)
    plays, uniq, game_dates = order.plays, order.game_ids, order.game_dates
    game_idx = np.repeat(np.arange(len(uniq)), np.diff(order.event_offsets))
    report: dict[str, Any] = {"season": season, "games": len(uniq), "events": len(plays)}

    events = _event_arrays(plays, report)
    on = id_matrix(plays, ON_COURT)  # [E,10], 0 unknown
    players = game_players(game_idx, on, len(uniq))
    report["events_full_lineup"] = int((on > 0).all(axis=1).sum())
    report["events_no_lineup"] = int((on == 0).all(axis=1).sum())
    starters = players.slots[_starter_rows(plays, game_idx, on)]
    report["games_full_starters"] = int((starters >= 0).all(axis=1).sum())
    player_x, player_found = _node_features(
        players.player_id, game_dates[players.game], player_features, node_defaults, season, report
    )
    report["game_players"] = len(players.player_id)
    pair_minutes = season_pair_minutes(plays, uniq, game_dates, players.player_id, prior_pair_minutes)
    chem_offsets, chem = chemistry_matrices(players, minutes_before_games(pair_minutes, game_dates))
    context = _context(uniq, team_game_features, betting_lines, context_defaults, season, report)

    label = season or (str(plays["season"].iloc[0]) if "season" in plays.columns and len(plays) else "")
    out = SeasonArrays(
        season=label,
        game_id=uniq.astype("<U10"),
        game_date=game_dates,
        home_pts=order.home_pts,
        away_pts=order.away_pts,
        context=context.astype(np.float32),
        starters=starters.astype(np.int16),
        event_offsets=order.event_offsets,
        player_offsets=players.offsets,
        chem_offsets=chem_offsets,
        **events,
        ev_on_court=players.slots,
        player_id=players.player_id,
        player_x=player_x.astype(np.float32),
        player_found=player_found,
        chem_minutes=chem,
        report=report,
    )
    out.validate()
    return out


@dataclass
class _GameOrder:
    """The games of a build in (date, id) order and their events in (game, seq) order."""

    plays: pd.DataFrame  # sorted by game then seq
    game_ids: np.ndarray  # str [G]
    game_dates: np.ndarray  # datetime64[D] [G]
    home_pts: np.ndarray  # int32 [G]
    away_pts: np.ndarray  # int32 [G]
    event_offsets: np.ndarray  # int64 [G+1]


def _games_in_order(plays: pd.DataFrame, games: pd.DataFrame) -> _GameOrder:
    """The games of ``plays`` in date order (then id), with their rows of ``games``: a temporal
    split is a split of game indices. Raises naming a game without a row or a final score."""
    check_columns(games, ["game_id", "game_date", "home_pts", "away_pts"], "games")
    g_meta = games.assign(game_id=games["game_id"].astype(str)).drop_duplicates("game_id")
    g_meta = g_meta.set_index("game_id")
    in_plays = pd.unique(plays["game_id"].astype(str))
    absent = ~pd.Index(in_plays).isin(g_meta.index)
    if absent.any():
        raise ValueError(
            f"games: no row for {int(absent.sum())} games in plays, e.g. {in_plays[absent][0]!r}"
        )
    g_meta = g_meta.loc[in_plays]
    g_meta["_date"] = pd.to_datetime(g_meta["game_date"])
    g_meta = g_meta.reset_index().sort_values(["_date", "game_id"], kind="stable").set_index("game_id")
    if g_meta[["home_pts", "away_pts"]].isna().any().any():
        bad = g_meta.index[g_meta[["home_pts", "away_pts"]].isna().any(axis=1)][0]
        raise ValueError(f"games: final score missing for game {bad!r} (only completed games can be used)")
    uniq = g_meta.index.to_numpy().astype(str)
    plays = plays.assign(_rank=pd.Categorical(plays["game_id"].astype(str), categories=uniq).codes)
    plays = plays.sort_values(["_rank", "seq"], kind="stable").reset_index(drop=True)
    first = np.searchsorted(plays["_rank"].to_numpy(), np.arange(len(uniq)))
    return _GameOrder(
        plays=plays,
        game_ids=uniq,
        game_dates=pd.to_datetime(g_meta["game_date"]).to_numpy().astype("datetime64[D]"),
        home_pts=g_meta["home_pts"].to_numpy(dtype=np.int32),
        away_pts=g_meta["away_pts"].to_numpy(dtype=np.int32),
        event_offsets=np.append(first, len(plays)).astype(np.int64),
    )


def _event_arrays(plays: pd.DataFrame, report: dict[str, Any]) -> dict[str, np.ndarray]:
    """The per-event arrays of ``plays`` (game, seq order) but the on-court slots."""
    ev = EventTokenizer(score_diff_std=1.0).encode_events(plays)
    report["unknown_event_tokens"] = ev.n_unknown
    report["unknown_event_codes"] = {str(k): v for k, v in ev.unknown_codes.items()}
    return {
        "ev_token": ev.token,
        "ev_time_left": ev.time_left,
        "ev_score_diff": ev.score_diff,
        "ev_score_total": ev.score_total,
        "ev_lineup": ev.lineup.reshape(len(plays), LINEUP_DIM),
        "ev_state": ev.state.reshape(len(plays), STATE_DIM),
        "ev_period": plays["period"].to_numpy(dtype=np.int8),
        "ev_game_seconds": plays["game_seconds"].to_numpy(dtype=np.float32),
    }


def _starter_rows(plays: pd.DataFrame, game_idx: np.ndarray, on: np.ndarray) -> np.ndarray:
    """int [G]: per game the row of its pregame lineup: the first period-1 event with the most
    known on-court players."""
    known, p1 = (on > 0).sum(axis=1), plays["period"].to_numpy() == 1
    cand = pd.DataFrame({"g": game_idx, "pos": np.arange(len(game_idx)), "known": known, "p1": p1})
    cand = cand.sort_values(["g", "p1", "known", "pos"], ascending=[True, False, False, True], kind="stable")
    return cand.drop_duplicates("g")["pos"].to_numpy()


def _node_features(
    p_id: np.ndarray,
    dates: np.ndarray,
    player_features: pd.DataFrame | None,
    node_defaults: dict[str, float] | None,
    season: str | None,
    report: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray]:
    """(player_x [P, NODE_DIM], player_found [P]): each game player's node features as of the
    game date ``dates`` [P]; the defaults for all when there is no player_features table."""
    if player_features is None:
        log.warning("season %s: no player_features; every node takes the default features", season)
        report["player_features_missing"] = True
        return np.tile(default_node_vector(node_defaults), (len(p_id), 1)), np.zeros(len(p_id), dtype=bool)
    # The lookups are keyed by player, pair and game: rows of other players and games change
    # nothing, and dropping them first makes one game's build (a live forecast) cheap.
    player_features = player_features[player_features["player_id"].isin(p_id)]
    look = lookup_node_features(
        pd.DataFrame({"player_id": p_id, "game_date": dates}), player_features, node_defaults
    )
    report["node_rows_without_snapshot"] = look.n_missing
    report["node_nan_values_filled"] = look.n_nan_filled
    return look.x, look.found


def _context(
    game_ids: np.ndarray,
    team_game_features: pd.DataFrame | None,
    betting_lines: pd.DataFrame | None,
    context_defaults: dict[str, float] | None,
    season: str | None,
    report: dict[str, Any],
) -> np.ndarray:
    """The context vector of each game (``features.context``); every value its default when
    there is no team_game_features table."""
    if team_game_features is None:
        log.warning("season %s: no team_game_features; every context value takes its default", season)
        report["team_game_features_missing"] = True
        # no rows at all: the builder gives every game the defaults (and counts them), and the line
        team_game_features = pd.DataFrame(columns=["game_id", "is_home", *SOURCE_COLUMNS])
    else:
        team_game_features = team_game_features[team_game_features["game_id"].astype(str).isin(game_ids)]
    res = ContextFeatureBuilder(context_defaults).build(game_ids, team_game_features, betting_lines)
    report["context_missing"] = res.missing
    report["games_without_team_features"] = res.games_without_rows
    report["games_with_line"] = res.games_with_line
    return res.values
