"""The win-probability chart: runs found, a PNG that covers regulation and overtime."""

from __future__ import annotations

import pandas as pd

from nba_pipeline.forecast.chart import chart_png, scoring_runs

PNG = b"\x89PNG\r\n\x1a\n"


def _points(scores: list[tuple[float, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(t, 0.5 + (h - a) / 100, h, a) for t, h, a in scores],
        columns=["game_seconds", "p_home_win", "home_score", "away_score"],
    )


def test_scoring_runs_are_unanswered_stretches_of_at_least_eight_points():
    pts = _points(
        [
            (0, 0, 0),
            (30, 2, 0),
            (60, 4, 0),
            (90, 7, 0),
            (120, 9, 0),
            (150, 9, 2),
            (200, 9, 5),
            (260, 9, 7),
            (300, 11, 7),
            (330, 11, 10),
        ]
    )
    runs = scoring_runs(pts)
    assert runs[["team", "points", "start", "end"]].values.tolist() == [["home", 9, 30.0, 120.0]]
    assert scoring_runs(pts, min_points=7)["points"].tolist() == [9, 7]  # away 7-0 from 150 s to 260 s


def test_chart_is_a_png_written_where_asked_and_covers_overtime(tmp_path):
    pts = _points([(0, 0, 0), (600, 20, 10), (2880, 100, 100), (3180, 112, 108)])
    out = tmp_path / "wp.png"
    png = chart_png(pts, "CLE", "CHI", path=out)
    assert png[:8] == PNG and out.read_bytes() == png
    assert len(png) > 10_000


def test_chart_of_a_game_in_progress_renders():
    assert chart_png(_points([(0, 0, 0), (100, 2, 3)]), "BOS", "NYK")[:8] == PNG


def test_chart_of_a_game_from_its_raw_rows_goes_through_the_incremental_path(forecaster, game_rows):
    from nba_pipeline.forecast.chart import game_chart
    from nba_pipeline_tests.test_forecast.conftest import GAME

    assert game_chart(forecaster, GAME, game_rows.iloc[:80])[:8] == PNG
