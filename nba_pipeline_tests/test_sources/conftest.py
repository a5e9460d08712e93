"""Fixtures of the source tests: the recorded stats.nba.com responses (../shared/data/nba_api),
replayed with vcrpy through nba_api's own HTTP client, so no test touches the network."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

from nba_pipeline import settings

MATCH_ON = ["method", "scheme", "host", "path", "query"]
GAME = "0022200552"


@pytest.fixture(scope="session")
def nba_api_dir() -> Path:
    """The recorded responses folder; tests that need it skip, saying why, when it is absent."""
    path = Path(
        os.environ.get("NBA_API_RECORDINGS_DIR", settings.REPO_ROOT.parent / "shared" / "data" / "nba_api")
    )
    if not (path / "cassettes").is_dir():
        pytest.skip(
            f"recorded stats.nba.com responses not found at {path} "
            "(set NBA_API_RECORDINGS_DIR to the folder with cassettes/ and responses/)"
        )
    return path


@pytest.fixture(scope="session")
def replay(nba_api_dir: Path):
    """A vcr.VCR that only replays the recorded cassettes (record_mode='none': no network)."""
    import vcr

    return vcr.VCR(cassette_library_dir=str(nba_api_dir / "cassettes"), record_mode="none", match_on=MATCH_ON)


def load_cassette(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def crafted_cassette(
    src: Path, dst_dir: Path, bad: list[tuple[int, str]], keep_good: bool = True
) -> tuple[Path, str]:
    """A cassette whose request is answered first by the ``bad`` (status, body) responses, then
    (``keep_good``) by the real recorded one. Returns the folder and the cassette file name."""
    import yaml

    data = load_cassette(src)
    good = data["interactions"][0]
    inter = []
    for status, body in bad:
        x = copy.deepcopy(good)
        x["response"]["body"]["string"] = body
        x["response"]["status"] = {"code": status, "message": "crafted"}
        x["response"]["headers"] = {
            k: v
            for k, v in x["response"]["headers"].items()
            if k.lower() not in ("content-encoding", "content-length")
        }
        inter.append(x)
    if keep_good:
        inter.append(good)
    data["interactions"] = inter
    dst_dir.mkdir(parents=True, exist_ok=True)
    name = "crafted_" + src.name
    (dst_dir / name).write_text(yaml.safe_dump(data), encoding="utf-8")
    return dst_dir, name
