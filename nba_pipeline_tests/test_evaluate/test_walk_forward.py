"""Walk-forward quick mode end to end on a real slice: two seasons' first games as model inputs and
games table, the real betting lines; trains on the earlier season, tests on the later one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nba_pipeline.commands.walk_forward import main
from nba_pipeline.evaluate.shipped import EARLY
from nba_pipeline.evaluate.walk_forward import CHECKPOINT_ORDER
from nba_pipeline.features.season_arrays import build_season_arrays
from nba_pipeline_tests.test_features.real import real_inputs

SEASONS = ("2021-22", "2022-23")


@pytest.fixture(scope="module")
def slice_env(nba_raw_dir, tmp_path_factory):
    from nba_pipeline.db import create_tables, make_engine, metadata, replace_rows
    from nba_pipeline.ingest import schema  # noqa: F401 - registers the games table

    base = tmp_path_factory.mktemp("walk_forward")
    features = base / "features"
    all_games = []
    for season in SEASONS:
        plays, games, tgf = real_inputs(nba_raw_dir, season, 80)
        build_season_arrays(plays, games, None, tgf, season=season).save_parts(features)
        all_games.append(games)
    games = pd.concat(all_games).drop_duplicates("game_id")
    url = f"sqlite:///{base / 'nba.db'}"
    engine = make_engine(url)
    create_tables(engine, [metadata.tables["games"]])
    replace_rows(engine, metadata.tables["games"], games, where={})
    return {"NBA_DATA_DIR": str(base), "NBA_DATABASE_URL": url, "NBA_RAW_DIR": str(nba_raw_dir)}, base


def test_quick_walk_forward_trains_before_and_tests_on_the_season(slice_env, monkeypatch, capsys):
    env, base = slice_env
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    out = base / "wf.md"
    rc = main(["--quick", "--test-seasons", "2022-23", "--k", "1", "--games", "80", "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    md = out.read_text()
    # the slice's database holds no analytics tables: no morning forecasts (evaluate.shipped), said so
    assert "the morning forecasts are not scored" in printed
    for cp in (c for c in CHECKPOINT_ORDER if c != EARLY):
        assert f"## {cp}" in md and f"\n{cp}\n" in printed
    table = pd.read_csv(out.with_suffix(".csv"))
    assert set(table["season"]) == {"2022-23"}
    pre = table[table["checkpoint"] == "pregame"].set_index("source")
    # every test game scored, by the model and the pregame baselines
    assert pre.loc["model", "n"] == pre.loc["Elo (total: training mean)", "n"] == 80
    assert {"market", "context logistic (pregame info)", "home-win rate"} <= set(pre.index)
    half = table[table["checkpoint"] == "halftime"].set_index("source")
    assert {"score and clock", "score and clock + own pregame", "score and clock + market"} <= set(half.index)
    assert np.isfinite(table["brier"]).all() and (table["brier"] < 0.3).all()
    assert "trained on 2021-22" in md and "| model |" in md
    assert "Written by `nba-pipeline walk-forward --quick --test-seasons 2022-23" in md
    late = table[table["checkpoint"] == "q4_1min"].set_index("source")
    assert "score and clock + own pregame + possession" in late.index


def test_a_test_season_without_k_earlier_seasons_is_refused(slice_env, monkeypatch):
    env, base = slice_env
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ValueError, match="earlier seasons"):
        main(["--quick", "--test-seasons", "2022-23", "--k", "2", "--out", str(base / "x.md")])
