"""The Dagster UI in a real browser: Debian's chromium, headless, driven by Selenium.

A small real run (the first 150 games of 2022-23: season data, then a 2-epoch training) is
written to a persistent Dagster home; ``dagster dev`` serves it on 127.0.0.1, and the browser
opens what a user opens: the asset graph, the latest ``trained_model`` materialization (its
metrics table, and the reliability diagram and training curves behind the markdown view, which
must render as images of nonzero size), the asset checks and the schedule. Screenshots are
written to ``data/test_artifacts/ui/`` (or ``$NBA_TEST_ARTIFACTS/ui``).

The browser is the system's (``apt-get install chromium chromium-driver``, done by
scripts/install.sh): nothing is downloaded at run time. The test skips, saying why, only where
that browser is not installed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from nba_pipeline import settings
from nba_pipeline_tests.services import dagster_dev, make_raw_slice

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
BLOCKING_CHECKS = ("pregame_accuracy", "pregame_brier", "calibration", "span")
WAIT_S = 60


def artifacts_dir() -> Path:
    base = Path(os.environ.get("NBA_TEST_ARTIFACTS", settings.REPO_ROOT / "data" / "test_artifacts"))
    out = base / "ui"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def ui_home(nba_raw_dir, tmp_path_factory) -> Iterator[dict[str, str]]:
    """A Dagster home holding one real season-data run and one training run of a small slice."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(f"Debian's chromium / chromium-driver not installed ({CHROMIUM}, {CHROMEDRIVER})")
    import dagster as dg

    from nba_pipeline.definitions import defs

    (artifacts_dir() / "failure.png").unlink(missing_ok=True)
    base = tmp_path_factory.mktemp("ui")
    raw = make_raw_slice(nba_raw_dir, base / "raw", {"2022-23": 150})
    home = base / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        "NBA_RAW_DIR": str(raw),
        "NBA_DATA_DIR": str(base / "data"),
        "NBA_DATABASE_URL": f"sqlite:///{base / 'nba.db'}",
        "DAGSTER_HOME": str(home),
    }
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            season = defs.resolve_job_def("season_data").execute_in_process(
                partition_key="2022-23", instance=instance
            )
            assert season.success
            training = defs.resolve_job_def("train_and_promote").execute_in_process(
                instance=instance,
                raise_on_error=False,  # a 2-epoch model may fail its blocking checks: still shown
                run_config={
                    "ops": {
                        "trained_model": {
                            "config": {"data": {"train_seasons": ["2022-23"]}, "optim": {"max_epochs": 2}}
                        }
                    }
                },
            )
            assert any(
                e.asset_key.to_user_string() == "trained_model"
                for e in training.get_asset_materialization_events()
            )
        yield env
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def ui_url(ui_home) -> Iterator[str]:
    """``dagster dev`` over the run's home, on 127.0.0.1."""
    with dagster_dev(ui_home, Path(ui_home["DAGSTER_HOME"]) / "dev.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser(ui_url):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1000"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver, predicate, what: str):
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, WAIT_S, poll_frequency=0.5).until(lambda d: predicate(d))
    except Exception as exc:
        shot = artifacts_dir() / "failure.png"
        driver.save_screenshot(str(shot))
        raise AssertionError(f"timed out waiting for {what} (screenshot {shot})") from exc


def _click(driver, find, what: str) -> None:
    """Find and click until a click lands: the UI re-renders as data loads (stale elements) and
    dialogs fade out (a click meanwhile hits the backdrop), as a user would simply click again."""
    from selenium.common.exceptions import WebDriverException

    def attempt(d) -> bool:
        _dismiss_community_dialog(d)
        try:
            find(d).click()
            return True
        except (StopIteration, WebDriverException):
            return False

    _wait(driver, attempt, what)


def _dismiss_community_dialog(driver) -> None:
    """ "Join the Dagster community" comes over the pages of a fresh browser, sometimes after the
    page itself has rendered: skip it as a user would, whenever it is there."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    for button in driver.find_elements(By.TAG_NAME, "button"):
        try:
            if button.text.strip() == "Skip":
                button.click()
        except WebDriverException:  # re-rendered meanwhile: the next attempt finds it again
            pass


def _open(driver, url: str, text: str) -> None:
    """Open a page as a user would: wait for ``text``, dismiss the community dialog if it shows."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    _wait(driver, lambda d: text in d.find_element(By.TAG_NAME, "body").text, f"{text!r} at {url}")
    _dismiss_community_dialog(driver)


def _no_overlay(driver) -> None:
    """Dialogs fade out: a click while a backdrop is still there lands on the backdrop."""
    from selenium.webdriver.common.by import By

    _wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, ".bp5-overlay-backdrop"), "no overlay")


def _body(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def test_ui_shows_the_asset_graph_with_every_group(browser, ui_url):
    _open(browser, f"{ui_url}/asset-groups", "training")
    body = _body(browser)
    for group in ("ingest", "analytics", "model_inputs", "training", "evaluation"):
        assert group in body
    browser.save_screenshot(str(artifacts_dir() / "asset_graph.png"))


def _open_markdown_image(driver, metadata_key: str) -> tuple[int, int]:
    """Click the ``[Show Markdown]`` of a metadata row; return the rendered image's natural size."""
    from selenium.webdriver.common.by import By

    _click(
        driver,
        lambda d: next(
            r for r in d.find_elements(By.CSS_SELECTOR, "tr") if r.text.startswith(metadata_key)
        ).find_element(By.XPATH, ".//*[contains(text(), 'Show Markdown')]"),
        f"the [Show Markdown] of {metadata_key} to open",
    )
    img = _wait(
        driver,
        lambda d: next(
            (i for i in d.find_elements(By.CSS_SELECTOR, "[role=dialog] img")
             if d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", i)),
            None,
        ),
        f"the {metadata_key} image to render",
    )  # fmt: skip
    size = driver.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", img)
    driver.save_screenshot(str(artifacts_dir() / f"{metadata_key}.png"))
    _click(
        driver,
        lambda d: d.find_element(By.XPATH, "//*[@role='dialog']//button[normalize-space()='Close']"),
        "the dialog's Close button",
    )
    _wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "[role=dialog] img"), "the dialog to close")
    _no_overlay(driver)
    return int(size[0]), int(size[1])


def test_ui_shows_the_trained_model_metrics_and_its_plots_render_as_images(browser, ui_url):
    _open(browser, f"{ui_url}/assets/trained_model", "validation_metrics")
    body = _body(browser)
    for column in ("checkpoint", "accuracy", "Brier", "margin MAE", "pregame"):
        assert column in body, f"metrics table lacks {column!r}"
    browser.save_screenshot(str(artifacts_dir() / "trained_model.png"))
    for key in ("reliability_diagram", "training_curves"):
        width, height = _open_markdown_image(browser, key)
        assert width > 100 and height > 100, f"{key} rendered at {width}x{height}"


def test_ui_shows_the_blocking_checks_of_trained_model(browser, ui_url):
    _open(browser, f"{ui_url}/assets/trained_model?view=checks", "pregame_accuracy")
    body = _body(browser)
    for name in BLOCKING_CHECKS:
        assert name in body
    browser.save_screenshot(str(artifacts_dir() / "checks.png"))


def test_ui_shows_the_nightly_schedule(browser, ui_url):
    _open(browser, f"{ui_url}/automation", "nightly_refresh")
    assert "retrain_after_refresh" in _body(browser)
    browser.save_screenshot(str(artifacts_dir() / "automation.png"))
