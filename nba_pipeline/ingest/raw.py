"""Reading and validating the raw season files.

Every reader checks the file's Parquet schema before loading it, so a malformed file fails with
an error naming the file and the column (never a KeyError deep inside a transform), and a file
that is simply absent degrades to ``None`` with a logged warning.

The raw location is one directory or a sequence of them (``[shipped, pulled]``: the shipped copy
is read-only, seasons pulled from stats.nba.com land in a writable dir). With several dirs the
first dir holding a file wins, seasons are the union, and ``games`` is ``games.parquet`` plus every
``games_<season>.parquet`` (a game already in an earlier file keeps that row).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

SEASON_RE = re.compile(r"^\d{4}-\d{2}$")
_PBP_FILE_RE = re.compile(r"^pbp_(\d{4}-\d{2})\.parquet$")
_GAMES_FILE_RE = re.compile(r"^games_(\d{4}-\d{2})\.parquet$")

# One raw dir (today's callers) or several, searched in order.
RawDirs = Path | str | os.PathLike | Sequence[Path | str | os.PathLike]


def raw_dirs(raw_dir: RawDirs) -> list[Path]:
    """The raw location as a list of dirs (a single path is a list of one)."""
    if isinstance(raw_dir, (str, os.PathLike)):
        return [Path(raw_dir)]
    dirs = [Path(d) for d in raw_dir]
    if not dirs:
        raise ValueError("raw dirs: empty sequence")
    return dirs


class RawDataError(ValueError):
    """A raw file is present but unusable (unreadable, missing column, wrong type, bad value)."""


# Required columns per raw file and the kind of Arrow type each must have.
# Kinds: int, float (int also accepted), str, bool, date (date or timestamp).
PBP_COLUMNS: dict[str, str] = {
    "GAME_ID": "str",
    "EVENTNUM": "int",
    "EVENTMSGTYPE": "int",
    "EVENTMSGACTIONTYPE": "int",
    "PERIOD": "int",
    "PCTIMESTRING": "str",
    "HOMEDESCRIPTION": "str",
    "NEUTRALDESCRIPTION": "str",
    "VISITORDESCRIPTION": "str",
    "SCORE": "str",
    "PERSON1TYPE": "int",
    "PLAYER1_ID": "int",
    "PLAYER1_TEAM_ID": "int",
    "PERSON2TYPE": "int",
    "PLAYER2_ID": "int",
    "PLAYER2_TEAM_ID": "int",
    "PERSON3TYPE": "int",
    "PLAYER3_ID": "int",
    "PLAYER3_TEAM_ID": "int",
}
LINEUP_COLUMNS: dict[str, str] = {
    "GAME_ID": "str",
    "ACTION_NUMBER": "int",
    "HOME_ON": "str",
    "AWAY_ON": "str",
    "N_HOME_ON": "int",
    "N_AWAY_ON": "int",
}
SHOT_COLUMNS: dict[str, str] = {
    "GAME_ID": "str",
    "GAME_DATE": "date",
    "TEAM_ID": "int",
    "PLAYER_ID": "int",
    "SHOT_MADE": "bool",
    "SHOT_TYPE": "str",
    "BASIC_ZONE": "str",
    "LOC_X": "float",
    "LOC_Y": "float",
    "SHOT_DISTANCE": "float",
    "QUARTER": "int",
    "SECS_LEFT_PERIOD": "int",
    "GAME_EVENT_ID_MATCHED": "int",
}
GAME_COLUMNS: dict[str, str] = {
    "game_id": "str",
    "game_date": "date",
    "season": "str",
    "game_type": "str",
    "neutral_site": "bool",
    "team_id_home": "int",
    "team_abbreviation_home": "str",
    "team_id_road": "int",
    "team_abbreviation_road": "str",
    "pts_home": "int",
    "pts_road": "int",
    **{
        f"{s}_{side}": "int"
        for side in ("home", "road")
        for s in (
            "fgm",
            "fga",
            "fg3m",
            "fg3a",
            "ftm",
            "fta",
            "oreb",
            "dreb",
            "ast",
            "stl",
            "blk",
            "tov",
            "pf",
        )
    },
    "possessions_home": "float",
    "possessions_road": "float",
    "minutes_home": "int",
}
PLAYER_COLUMNS: dict[str, str] = {
    "PLAYER_ID": "int",
    "PLAYER_NAME": "str",
    "HEIGHT_IN": "float",
    "WEIGHT_LB": "float",
    "POSITION": "str",
    "POSITION_SHOTS": "str",
}

ODDS_COLUMNS: dict[str, str] = {
    "season": "str",
    "game_id": "str",
    "ml_home_implied_prob_novig": "float",
    "home_spread": "float",
    "total_line": "float",
    "total_line_suspect": "bool",
}

SPECS: dict[str, dict[str, str]] = {
    "pbp": PBP_COLUMNS,
    "lineups": LINEUP_COLUMNS,
    "shots": SHOT_COLUMNS,
    "games": GAME_COLUMNS,
    "players": PLAYER_COLUMNS,
    "odds": ODDS_COLUMNS,
}
SEASONAL = {"pbp", "lineups", "shots"}


def raw_path(raw_dir: RawDirs, kind: str, season: str | None = None) -> Path:
    """``<raw>/<kind>_<season>.parquet`` for seasonal files, ``<raw>/<kind>.parquet`` otherwise.

    With several dirs: the first dir holding the file (the first dir's path when none does)."""
    if kind in SEASONAL:
        if season is None or not SEASON_RE.match(season):
            raise ValueError(f"{kind} files are per season: season label 'YYYY-YY' required, got {season!r}")
        name = f"{kind}_{season}.parquet"
    else:
        name = f"{kind}.parquet"
    dirs = raw_dirs(raw_dir)
    for d in dirs:
        if (d / name).exists():
            return d / name
    return dirs[0] / name


# The NBA's league year starts on July 1: June's Finals close a season, July's free agency opens
# the next one, so an off-season date already belongs to the season about to be played.
SEASON_START_MONTH = 7


def season_label(start_year: int) -> str:
    """The label of the season that starts in ``start_year`` (2025 -> '2025-26')."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def season_of(day: dt.date) -> str:
    """The season a date belongs to (2026-06-10 -> '2025-26', 2026-09-15 and 2026-10-01 -> '2026-27'):
    the one rule for the current season of the rolling window, the pull and live games."""
    return season_label(day.year if day.month >= SEASON_START_MONTH else day.year - 1)


def _start_year(season: str) -> int:
    if not SEASON_RE.match(season):
        raise ValueError(f"season label 'YYYY-YY' required, got {season!r}")
    return int(season[:4])


def previous_season(season: str) -> str:
    """The season before ``season`` ('2023-24' -> '2022-23'): with :func:`next_season`, the one place
    that knows how season labels follow each other (priors, shot windows and as-of features look one
    season back)."""
    return season_label(_start_year(season) - 1)


def next_season(season: str) -> str:
    """The season after ``season`` ('2022-23' -> '2023-24'): the first one a model trained up to
    ``season`` cannot have seen."""
    return season_label(_start_year(season) + 1)


def seasons_in(raw_dir: RawDirs) -> list[str]:
    """Seasons that have a play-by-play file in any of the dirs, sorted: the partitions of every
    seasonal asset."""
    found: set[str] = set()
    for d in raw_dirs(raw_dir):
        if d.is_dir():
            found.update(m.group(1) for p in d.iterdir() if (m := _PBP_FILE_RE.match(p.name)))
    return sorted(found)


def _kind_ok(t: pa.DataType, kind: str) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    if kind == "int":
        return pa.types.is_integer(t)
    if kind == "float":
        return pa.types.is_integer(t) or pa.types.is_floating(t)
    if kind == "str":
        # all-null columns are stored as the Arrow null type
        return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)
    if kind == "bool":
        return pa.types.is_boolean(t)
    if kind == "date":
        return pa.types.is_date(t) or pa.types.is_timestamp(t)
    raise ValueError(f"unknown column kind {kind!r}")


def validate_schema(path: Path, schema: pa.Schema, spec: dict[str, str]) -> None:
    """Raise :class:`RawDataError` naming the file and every missing or mistyped column."""
    names = set(schema.names)
    missing = [c for c in spec if c not in names]
    if missing:
        raise RawDataError(f"{path}: missing required column(s) {missing}")
    wrong = [
        f"column {c!r} has type {schema.field(c).type}, expected {kind}"
        for c, kind in spec.items()
        if not _kind_ok(schema.field(c).type, kind)
    ]
    if wrong:
        raise RawDataError(f"{path}: " + "; ".join(wrong))


def read_raw(
    raw_dir: RawDirs, kind: str, season: str | None = None, all_columns: bool = False
) -> pd.DataFrame | None:
    """Read one raw file after validating its schema.

    Returns ``None`` (with a warning) when the file does not exist; raises :class:`RawDataError`
    when it exists but is unreadable or lacks a required column of the right type. Only the
    required columns are loaded unless ``all_columns``. With several dirs the first dir holding the
    file is read, and ``games`` adds every dir's ``games_<season>.parquet`` rows.
    """
    if kind == "games" and not isinstance(raw_dir, (str, os.PathLike)):
        return _read_games(raw_dirs(raw_dir), all_columns)
    path = raw_path(raw_dir, kind, season)
    if not path.exists():
        log.warning("raw file %s not found: %s for season %s degrade to no rows", path, kind, season)
        return None
    return _read_file(path, SPECS[kind], all_columns)


def _read_file(path: Path, spec: dict[str, str], all_columns: bool) -> pd.DataFrame:
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise RawDataError(f"{path}: unreadable parquet file ({type(exc).__name__}: {exc})") from exc
    validate_schema(path, schema, spec)
    try:
        df = pd.read_parquet(path, columns=None if all_columns else list(spec))
    except Exception as exc:
        raise RawDataError(f"{path}: unreadable parquet file ({type(exc).__name__}: {exc})") from exc
    df.attrs["source_path"] = str(path)
    return df


def _read_games(dirs: list[Path], all_columns: bool) -> pd.DataFrame | None:
    """``games.parquet`` (first dir holding it) + each season's ``games_<season>.parquet`` (first
    dir holding it); a game id already read keeps its first row."""
    paths: list[Path] = []
    main = raw_path(dirs, "games")
    if main.exists():
        paths.append(main)
    seen: set[str] = set()
    for d in dirs:
        if not d.is_dir():
            continue
        for p in sorted(d.iterdir()):
            m = _GAMES_FILE_RE.match(p.name)
            if m and m.group(1) not in seen:
                seen.add(m.group(1))
                paths.append(p)
    if not paths:
        log.warning(
            "raw file %s not found in %s: games degrade to no rows", "games.parquet", [str(d) for d in dirs]
        )
        return None
    frames = [_read_file(p, GAME_COLUMNS, all_columns) for p in paths]
    if len(frames) == 1:
        return frames[0]
    cols = list(frames[0].columns) if all_columns else list(GAME_COLUMNS)
    frames = [f.reindex(columns=cols) if all_columns else f for f in frames]
    df = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else frames[0]
    )
    df = df.drop_duplicates("game_id", keep="first").reset_index(drop=True)
    df.attrs["source_path"] = ", ".join(str(p) for p in paths)
    return df


def parse_clock(values: pd.Series, path: str, column: str) -> pd.Series:
    """``M:SS`` (optionally ``M:SS.f``) -> seconds as float; a bad value raises naming file, column
    and the first offending value."""
    arr = pa.array(values.to_numpy(dtype=object), type=pa.large_string())
    parts = pc.split_pattern(arr, ":")
    ok = pc.equal(pc.list_value_length(parts), 2)
    if pc.all(pc.fill_null(ok, False)).as_py():
        try:
            mins = pc.cast(pc.list_element(parts, 0), pa.float64()).to_numpy(zero_copy_only=False)
            secs = pc.cast(pc.list_element(parts, 1), pa.float64()).to_numpy(zero_copy_only=False)
            out = mins * 60 + secs
            if not np.isnan(out).any():
                return pd.Series(out, index=values.index)
        except pa.ArrowInvalid:
            pass
    # slow path only to name the offending value
    m = values.str.extract(r"^\s*(\d+):(\d{1,2}(?:\.\d+)?)\s*$")
    bad = m[0].isna() | m[1].isna()
    first = values[bad].iloc[0] if bad.any() else None
    raise RawDataError(
        f"{path}: column {column!r} has unparsable clock value {first!r} ({int(bad.sum())} rows)"
    )
