"""A real browser (Debian's headless Chromium via Selenium) on the real console: it signs in,
sees an OSC throw arrive without reloading, blacks the wall out, picks a variation, and
every page is photographed at phone and desktop widths with its key elements present."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from installation.osc.control import ControlServer
from tests.web.helpers import Running, make_show, password, run_show

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs Debian's chromium and chromium-driver (scripts/system-deps.sh)",
)
WIDTHS = (390, 1440)


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1440,1000",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def with_osc(tmp_path: Path) -> Iterator[tuple[Running, ControlServer]]:
    for r in run_show(make_show(tmp_path)):
        control = ControlServer("127.0.0.1:0", [], r.app.inbox, r.app.snapshot, dice=2, faces=6)
        control.start()
        try:
            yield r, control
        finally:
            control.stop()


def wait_for(driver: Any, condition: Any, timeout: float = 15) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)


def sign_in(driver: Any, base: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + "/")
    wait_for(driver, lambda d: d.find_elements(By.ID, "signin"))
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password(name))
    driver.find_element(By.ID, "signin-button").click()
    wait_for(driver, lambda d: d.find_elements(By.ID, "wall"))


def shoot(driver: Any, folder: Path, name: str) -> list[Path]:
    """The page at each width, full height; returns the PNG files."""
    out = []
    for width in WIDTHS:
        driver.set_window_size(width, 1000)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(int(height) + 120, 4000))
        path = folder / f"{name}-{width}.png"
        assert driver.save_screenshot(str(path))
        out.append(path)
    driver.set_window_size(1440, 1000)
    return out


def test_browser_signs_in_follows_a_throw_blacks_out_and_picks(
    browser: Any, with_osc: tuple[Running, ControlServer], tmp_path: Path
) -> None:
    from PIL import Image
    from selenium.webdriver.common.by import By

    r, control = with_osc
    base = f"http://127.0.0.1:{r.port}"
    shots = tmp_path / "screenshots"
    shots.mkdir()
    sign_in(browser, base, "artist")
    wait_for(browser, lambda d: "live updates: on" in d.find_element(By.ID, "live").text)

    # an OSC throw: the page follows without a reload
    marker = browser.execute_script("window.__same_page = 1; return window.__same_page")
    SimpleUDPClient(*control.address).send_message("/installation/throw", [4, 2])
    wait_for(browser, lambda d: "4-2" in d.find_element(By.ID, "variation").text)
    assert browser.find_element(By.ID, "state").text.lower() == "presenting"
    assert browser.execute_script("return window.__same_page") == marker  # no reload
    wait_for(browser, lambda d: d.execute_script(
        "const i = document.getElementById('now'); return i.complete && i.naturalWidth > 0"
    ))  # fmt: skip
    pages = {"wall": shoot(browser, shots, "wall")}

    # blackout from the controls: the wall goes dark, as the status says
    browser.get(base + "/controls")
    pages["controls"] = shoot(browser, shots, "controls")
    browser.find_element(By.ID, "blackout").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "done"))
    r.wait(lambda: r.status()["state"] == "blackout", what="the status to say blackout")
    assert r.app.kiosk.state == "blackout"  # type: ignore[attr-defined]
    browser.get(base + "/")
    wait_for(browser, lambda d: d.find_element(By.ID, "state").text.lower() == "blackout")

    # the archive: the grid, the large view, pick
    r.wait(lambda: list((r.show.storage_dir / "archive").glob("*/*.png")), what="archive")
    browser.get(base + "/archive")
    tiles = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#grid a.tile"))
    pages["archive"] = shoot(browser, shots, "archive")
    tiles[0].click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "pick"))
    pages["variation"] = shoot(browser, shots, "variation")
    browser.find_element(By.ID, "pick").click()
    wait_for(browser, lambda d: "picked" in d.find_element(By.ID, "done").text)
    picked = list((r.show.storage_dir / "selection").glob("*.png"))
    assert len(picked) == 1 and "4-2" in picked[0].name
    sidecar = json.loads(picked[0].with_suffix(".json").read_text())
    assert sidecar["throw"] == [4, 2] and sidecar["seed"] == r.status()["last_variation"]["seed"]

    for name, path in (("outcomes", "/outcomes"), ("log", "/log")):
        browser.get(base + path)
        pages[name] = shoot(browser, shots, name)
    assert browser.find_element(By.ID, "log").text  # the log page has lines

    # every screenshot is a real picture of the page at its width
    for name, files in pages.items():
        for width, file in zip(WIDTHS, files, strict=True):
            with Image.open(file) as im:
                assert im.width == width, (name, im.size)
                shades = np.unique(np.asarray(im.convert("L").resize((32, 32))))
                assert len(shades) > 4, name


def test_key_elements_on_each_page_at_phone_and_desktop_width(
    browser: Any, with_osc: tuple[Running, ControlServer]
) -> None:
    from selenium.webdriver.common.by import By

    r, _ = with_osc
    base = f"http://127.0.0.1:{r.port}"
    sign_in(browser, base, "artist")
    expect = {
        "/": ["#state", "#throw", "#variation", "#errors", "#now"],
        "/controls": ["#blackout", "#resume", "#roll", "#reload", "#throw-form"],
        "/archive": [".filters", "#grid"],
        "/outcomes": ["#o-1-1", "#o-6-6"],
        "/log": ["#log"],
    }
    for width in WIDTHS:
        browser.set_window_size(width, 900)
        for path, selectors in expect.items():
            browser.get(base + path)
            for css in selectors:
                el = wait_for(browser, lambda d, css=css: d.find_elements(By.CSS_SELECTOR, css))[0]
                assert el.is_displayed(), (width, path, css)
                assert el.rect["x"] + min(el.rect["width"], 40) <= width, (width, path, css)
            # nothing forces a sideways scroll on a phone
            scroll = browser.execute_script("return document.documentElement.scrollWidth")
            assert scroll <= width + 1, (width, path, scroll)
