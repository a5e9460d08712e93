"""``players.parquet`` -> rows of the ``players`` table, with fallbacks where the file has gaps:
height/weight as merged in the file (bio, else latest player-season row), position from the
player's most frequent shots position, else mapped from the bio's Guard/Forward/Center."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from nba_pipeline.ingest.schema import players

log = logging.getLogger(__name__)

PLAYERS_COLUMNS = [c.name for c in players.columns]
POSITIONS = ("PG", "SG", "SF", "PF", "C")
# Bio positions carry no guard/forward split: map to the middle of each group.
BIO_POSITION_MAP = {
    "Guard": "SG",
    "Guard-Forward": "SG",
    "Forward-Guard": "SF",
    "Forward": "SF",
    "Forward-Center": "PF",
    "Center-Forward": "C",
    "Center": "C",
}


@dataclass
class PlayersReport:
    rows: int
    no_height: int
    no_weight: int
    position_from_shots: int
    position_from_bio: int
    no_position: int


def build_players(raw: pd.DataFrame) -> tuple[pd.DataFrame, PlayersReport]:
    """One row per player id; missing bios are counted and logged, never invented."""
    df = raw.drop_duplicates("PLAYER_ID")
    # 'SF-PF' style shots positions: the first listed one.
    shots_pos = df["POSITION_SHOTS"].str.split("-").str[0]
    shots_pos = shots_pos.where(shots_pos.isin(POSITIONS))
    bio_pos = df["POSITION"].map(BIO_POSITION_MAP)
    position = shots_pos.fillna(bio_pos)
    source = pd.Series(None, index=df.index, dtype=object)
    source[bio_pos.notna()] = "bio_mapped"
    source[shots_pos.notna()] = "shots"
    out = pd.DataFrame(
        {
            "player_id": df["PLAYER_ID"].astype("int64"),
            "name": df["PLAYER_NAME"],
            "height_in": pd.to_numeric(df["HEIGHT_IN"]).astype("float64"),
            "weight_lb": pd.to_numeric(df["WEIGHT_LB"]).astype("float64"),
            "position": position,
            "position_source": source.where(position.notna(), None),
        }
    )[PLAYERS_COLUMNS].reset_index(drop=True)
    rep = PlayersReport(
        rows=len(out),
        no_height=int(out["height_in"].isna().sum()),
        no_weight=int(out["weight_lb"].isna().sum()),
        position_from_shots=int((out["position_source"] == "shots").sum()),
        position_from_bio=int((out["position_source"] == "bio_mapped").sum()),
        no_position=int(out["position"].isna().sum()),
    )
    if rep.no_height or rep.no_position:
        log.warning(
            "players: %d of %d without height, %d without weight, %d without position (left NULL)",
            rep.no_height,
            rep.rows,
            rep.no_weight,
            rep.no_position,
        )
    return out, rep
