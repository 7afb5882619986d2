"""The desk in Debian's headless chromium: log in, a handover arrives live, mark it handled."""

import pytest
from browser import chromium, need_chromium
from desk_helpers import PASSWORD, add_handover

need_chromium()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WAIT_S = 15


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "chromium") as driver:
        yield driver


def test_handover_appears_live_and_is_handled(live, browser):
    wait = WebDriverWait(browser, WAIT_S)
    browser.get(f"{live.url}/desk")
    assert browser.current_url.endswith("/desk/login")  # redirected: not logged in
    browser.find_element(By.ID, "username").send_keys("anna")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "live"), "Live"))
    assert "geen open overdrachten" in browser.find_element(By.ID, "handovers").text
    browser.execute_script("window.notReloaded = true;")

    other = add_handover(live.store, "voorbeeldrijk", summary="Voor een andere gemeente.")
    live.hub.notify("voorbeeldrijk")
    hid = add_handover(live.store, "demodam", call_id="CA" + "7" * 32,
                       summary="Beller wil een afspraak voor een paspoort.")
    live.hub.notify("demodam")

    card = wait.until(ec.visibility_of_element_located((By.ID, f"overdracht-{hid}")))
    assert browser.execute_script("return window.notReloaded === true;")
    text = card.text
    assert "afspraak voor een paspoort" in text and "+31612345678" in text
    assert "Jan de Vries" in text
    assert not browser.find_elements(By.ID, f"overdracht-{other}")
    assert "Voor een andere gemeente" not in browser.find_element(By.TAG_NAME, "body").text
    assert browser.title.startswith("(1)")

    card.find_element(By.XPATH, ".//button[contains(., 'Afgehandeld')]").click()
    wait.until(ec.invisibility_of_element_located((By.ID, f"overdracht-{hid}")))
    row = live.store.handover(hid)
    assert row.status == "handled" and row.handled_by == "anna"
    assert live.store.handover(other).status == "open"
    assert browser.execute_script("return window.notReloaded === true;")

    browser.find_element(By.XPATH, "//button[contains(., 'Uitloggen')]").click()
    wait.until(ec.url_contains("/desk/login"))
    assert "uitgelogd" in browser.find_element(By.TAG_NAME, "body").text
