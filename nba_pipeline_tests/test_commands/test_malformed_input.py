"""Every command that reads a user's file, given a malformed one, prints ONE error line naming the
file and the field, exits non-zero and writes nothing (small synthetic files, no real data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nba_pipeline.commands import main


@pytest.fixture()
def home(tmp_path: Path, monkeypatch) -> Path:
    """Every place a command may write, inside ``tmp_path/out`` (checked empty afterwards)."""
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("NBA_DATA_DIR", str(out / "data"))
    monkeypatch.setenv("NBA_DATABASE_URL", f"sqlite:///{out / 'nba.db'}")
    monkeypatch.setenv("NBA_MODELS_DIR", str(out / "models"))
    monkeypatch.setenv("NBA_PULLED_DIR", str(out / "pulled"))
    return out


def _refused(argv: list[str], capsys, home: Path, *named: str) -> str:
    """Run ``nba-pipeline ARGV``: non-zero, one line on stderr naming ``named``, nothing written."""
    rc = main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert rc != 0
    assert len(err) == 1, err
    for text in named:
        assert text in err[0], (text, err[0])
    written = [p for p in home.rglob("*") if p.is_file()]
    assert written == [], written
    return err[0]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_lines_names_the_malformed_field_of_an_odds_response(tmp_path, home, capsys):
    bad = _write(tmp_path / "odds.json", json.dumps({"games": [{"gameId": "0022400913", "markets": "nope"}]}))
    _refused(["lines", str(bad)], capsys, home, str(bad), "games[0].markets")


def test_lines_names_a_file_that_is_not_json(tmp_path, home, capsys):
    bad = _write(tmp_path / "odds.json", '{"games": [')
    _refused(["lines", str(bad)], capsys, home, str(bad))


def test_lines_import_names_the_bad_column_and_loads_nothing(tmp_path, home, capsys):
    bad = _write(tmp_path / "lines.csv", "game_id,p_home,spread\n0022400913,0.6,abc\n")
    _refused(["lines", "--import", str(bad)], capsys, home, str(bad), "column 'spread'", "nothing loaded")


def test_lines_import_names_an_unknown_column(tmp_path, home, capsys):
    bad = _write(tmp_path / "lines.csv", "game_id,p_home,spred\n0022400913,0.6,-3\n")
    _refused(["lines", "--import", str(bad)], capsys, home, str(bad), "'spred'")


def test_live_replay_refuses_a_malformed_recording_before_loading_a_model(tmp_path, home, capsys):
    bad = _write(tmp_path / "pbp.json", json.dumps({"game": {"gameId": "0022200552", "actions": "nope"}}))
    _refused(["live", "0022200552", "--replay", str(bad)], capsys, home, str(bad), "game.actions")


def test_live_replay_names_an_action_that_is_not_an_object(tmp_path, home, capsys):
    bad = _write(tmp_path / "pbp.json", json.dumps({"game": {"gameId": "0022200552", "actions": [7]}}))
    _refused(["live", "0022200552", "--replay", str(bad)], capsys, home, str(bad), "game.actions[0]")


def test_convert_pbp_v3_names_the_field_and_writes_no_parquet(tmp_path, home, capsys):
    bad = _write(tmp_path / "pbp.json", json.dumps({"game": {"gameId": "0022200552"}}))
    out = home / "game.parquet"
    _refused(["convert-pbp-v3", str(bad), "--out", str(out)], capsys, home, str(bad), "game.actions")


def _corrupt_registry(home: Path) -> Path:
    version = home / "models" / "v1.0.0"
    version.mkdir(parents=True)
    return _write(version / "metadata.json", '{"version": "v1.0.0", "files": ')


@pytest.mark.parametrize(
    "argv",
    [
        ["registry", "show", "v1.0.0"],
        ["registry", "verify", "v1.0.0"],
        ["evaluate", "--version", "v1.0.0"],
        ["daily", "--version", "v1.0.0", "--as-of", "2024-01-01"],
    ],
    ids=["registry-show", "registry-verify", "evaluate", "daily"],
)
def test_a_model_with_a_corrupted_metadata_file_is_named(argv, home, capsys, monkeypatch):
    meta = _corrupt_registry(home)
    before = {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}
    rc = main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert rc != 0 and len(err) == 1, err
    assert "metadata.json is corrupted" in err[0]
    assert {p: p.read_bytes() for p in home.rglob("*") if p.is_file()} == before == {meta: meta.read_bytes()}


def test_analytics_report_names_an_unreadable_raw_file(tmp_path, home, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    games = _write(raw / "games.parquet", "not a parquet file")
    _refused(["analytics-report", "--raw", str(raw)], capsys, home, str(games), "unreadable parquet")


def test_walk_forward_refuses_a_malformed_config_before_training(home, capsys):
    _refused(["walk-forward", "--config", '{"optim": '], capsys, home, "--config")
    _refused(["walk-forward", "--config", '{"optim": {"lrx": 1}}'], capsys, home, "lrx")


def test_compare_on_validation_refuses_a_malformed_config_before_training(home, capsys):
    argv = ["compare-on-validation", "--seasons", "2022-23", "--configs", "{}", '{"optim": {"lrx": 1}}']
    _refused(argv, capsys, home, '{"optim": {"lrx": 1}}', "lrx")


def test_bench_source_names_a_malformed_recording(tmp_path, home, capsys):
    responses = tmp_path / "recordings" / "responses"
    responses.mkdir(parents=True)
    log = _write(responses / "leaguegamelog_team_2025-26.json", json.dumps({"resultSets": "nope"}))
    _write(responses / "playbyplayv3_0022200552.json", json.dumps({"game": {"actions": []}}))
    _write(
        responses / "boxscoretraditionalv3_0022200552.json",
        json.dumps({"boxScoreTraditional": {"homeTeam": {}}}),
    )
    argv = [
        "bench",
        "source",
        "--recordings",
        str(tmp_path / "recordings"),
        "--keep",
        str(tmp_path / "cache"),
    ]
    _refused(argv, capsys, home, str(log), "resultSets[0]")
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_availability_import_names_the_bad_column_and_stores_nothing(tmp_path, home, capsys):
    import sqlalchemy as sa

    from nba_pipeline.db import make_engine

    engine = make_engine(f"sqlite:///{home / 'nba.db'}")  # the user's database exists
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    bad = _write(tmp_path / "out.csv", "date,team,player,status\n2023-11-18,LAL,2544,gone\n")
    rc = main(["availability", "--import", str(bad)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert rc != 0 and len(err) == 1, err
    assert str(bad) in err[0] and "column 'status'" in err[0] and "nothing loaded" in err[0]
    assert not sa.inspect(engine).has_table("player_availability")  # no report stored, no table made
    files = {p.name for p in home.rglob("*") if p.is_file()}
    assert files <= {"nba.db", "nba.db-wal", "nba.db-shm"}, files  # SQLite's own files only
