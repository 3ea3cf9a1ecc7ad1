"""The HTML report in a real headless browser (Debian's chromium + chromedriver, driven by Selenium):
the page loads with no network, draws one rect per placed clip, and a screenshot is taken."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from export_cases import MARKERS, RATES, alignment
from syncfp.export import ExportOptions, write

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def test_report_is_self_contained(tmp_path: Path) -> None:
    (path,) = write(alignment(*RATES["25"]), str(tmp_path / "r.html"), options=ExportOptions(markers=MARKERS))
    text = Path(path).read_text(encoding="utf-8")
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in text
    assert "<script" not in text and "<link" not in text
    assert text.count('class="clip"') == 5 and text.count('class="song"') == 2


@pytest.mark.slow
@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver")
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    (path,) = write(alignment(*RATES["2997df"]), str(tmp_path / "r.html"), options=ExportOptions(markers=MARKERS))
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="syncfp-chromium-", dir=tmp_path)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1200,900"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    try:
        driver.set_page_load_timeout(30)
        driver.get(Path(path).as_uri())
        drawn = driver.execute_script(
            "return Array.from(document.querySelectorAll('svg rect.clip'))"
            ".filter(r => r.getBBox().width > 0 && r.getBoundingClientRect().height > 0).length")
        assert drawn == 5
        assert driver.execute_script("return document.querySelectorAll('#unplaced li').length") == 1
        shot = tmp_path / "report.png"
        assert driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        driver.quit()
