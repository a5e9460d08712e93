"""``nba-pipeline convert-pbp-v3 RESPONSE.json --out OUT.parquet``: one saved PlayByPlayV3
response as rows of the raw PlayByPlayV2 contract (``sources.pbp_v3.convert_pbp_v3``), offline.

Exit 0, or 1 with one line naming the file and what is wrong with it (nothing written).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Convert one response; a malformed one is named, never half written."""
    ap = argparse.ArgumentParser(
        prog="nba-pipeline convert-pbp-v3", description=(__doc__ or "").split("\n\n")[0]
    )
    ap.add_argument("response", type=Path, help="PlayByPlayV3 JSON response file")
    ap.add_argument("--out", type=Path, required=True, help="output .parquet")
    args = ap.parse_args(argv)
    from nba_pipeline.sources.pbp_v3 import V3FormatError, convert_pbp_v3

    try:
        response = json.loads(args.response.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {args.response}: {exc}", file=sys.stderr)
        return 1
    try:
        df = convert_pbp_v3(response)
    except V3FormatError as exc:
        print(f"error: {args.response}: {exc}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(args.out, index=False)
    games = df["GAME_ID"].unique().tolist()
    print(f"{args.out}: {len(df)} rows, game(s) {games}")
    return 0
