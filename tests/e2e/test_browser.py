"""/docs and /redoc in a real browser (headless Chromium, Debian's package, via selenium) against
the local stack, as a person would use them. Screenshots go to .cache/test-artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import ROOT
from tests.fakes import token

ARTIFACTS = ROOT / ".cache" / "test-artifacts"
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    if not (CHROMIUM and DRIVER):
        pytest.fail("chromium and chromedriver are needed (`make browser` installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-extensions",
        "--no-first-run",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _operations(stack) -> int:
    document = requests.get(f"{stack.api}/openapi.json", timeout=10).json()
    return sum(len(item) for item in document["paths"].values())


def _hosts_loaded(browser) -> set[str]:
    urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return {urlparse(url).netloc for url in urls if not url.startswith("data:")}


def test_swagger_ui_lists_every_operation_and_try_it_out_gets_a_200(stack, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.get(f"{stack.api}/docs")
    wait = WebDriverWait(browser, 60)
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".opblock")) == _operations(stack))

    browser.find_element(By.CSS_SELECTOR, ".btn.authorize").click()  # Authorize: a bearer token
    field = wait.until(ready.visibility_of_element_located((By.CSS_SELECTOR, ".modal-ux input")))
    field.send_keys(token("docs-reader", "organizers"))
    browser.find_element(By.CSS_SELECTOR, ".modal-ux .btn.modal-btn.auth.authorize").click()
    browser.find_element(By.CSS_SELECTOR, ".modal-ux .btn-done").click()

    operation = browser.find_element(By.ID, "operations-events-list_events")
    operation.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait.until(lambda b: operation.find_elements(By.CSS_SELECTOR, ".try-out__btn"))[0].click()
    wait.until(lambda b: operation.find_elements(By.CSS_SELECTOR, ".execute"))[0].click()
    status = wait.until(
        lambda b: operation.find_elements(By.CSS_SELECTOR, ".live-responses-table tbody .response-col_status")
    )[0]
    assert status.text.strip().startswith("200")
    curl = operation.find_element(By.CSS_SELECTOR, ".curl-command").text
    assert "Authorization: Bearer" in curl  # Authorize put the token on the call
    browser.save_screenshot(str(ARTIFACTS / "docs.png"))
    assert _hosts_loaded(browser) == {urlparse(stack.api).netloc}  # nothing from another host


def test_redoc_lists_every_operation(stack, browser):
    browser.get(f"{stack.api}/redoc")
    wait = WebDriverWait(browser, 60)
    selector = "[data-section-id^='operation/']"  # one section per operation
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, selector)) == _operations(stack))
    titles = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "h2")]
    assert any("Register for an event" in t for t in titles)
    browser.save_screenshot(str(ARTIFACTS / "redoc.png"))
    assert _hosts_loaded(browser) == {urlparse(stack.api).netloc}
