"""Open an HTML file from disk in headless Chromium with the network off; what it asked for and showed."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labdriver import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS, missing_tools

#: Every image has loaded and has pixels (a broken data: URI gives naturalWidth 0).
_IMAGES = "return [...document.images].map(i => [i.alt, i.complete && i.naturalWidth > 0, i.naturalWidth])"


def open_offline(page, screenshot, width=1400):
    """Render ``page`` (a file) offline and save a full-page PNG to ``screenshot``.

    Returns
    -------
    dict
        ``requests``: every URL the page asked for (the page itself included), ``images``: [(alt,
        loaded, width)], ``text``: the page's visible text.
    """
    import base64
    import json

    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
        driver.get(Path(page).resolve().as_uri())
        images = driver.execute_script(_IMAGES)
        text = driver.execute_script("return document.body.innerText")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": min(int(height), 12000), "deviceScaleFactor": 1, "mobile": False})
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
        requests = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                requests.append(message["params"]["request"]["url"])
        return {"requests": requests, "images": images, "text": text}
    finally:
        driver.quit()


__all__ = ["missing_tools", "open_offline"]
