"""A handover made by the real dialogue, as the desk shows it: the topic in Dutch once,
one summary, no internal labels, and a plain warning only on a line probably misheard."""

import datetime as dt
import re
from html import unescape

import pytest
from desk_helpers import CALLER, PASSWORD, login

from dialogue.core import Dialogue
from dialogue.state import SessionStore
from dialogue.turns import UserTurn

OPEN = dt.datetime(2026, 12, 8, 10, 0)  # a Tuesday morning: contact centre open
CALL = "CA" + "6" * 32
HEARD_WELL, HEARD_BADLY = "mijn paspoort is verlopen", "ik wil een medewerker spreken"
TOPIC = "Paspoort of ID-kaart"
SUMMARY = "Beller wil een medewerker spreken over paspoort of ID-kaart."
INTERNAL = ("herkend", "zeker", "%", "paspoort_id", "medewerker,", "asked", "geen onderwerp")


@pytest.fixture
def handover_id(content, nlu, store) -> int:
    """A call that asks for a person; the second sentence was heard with low confidence."""
    dialogue = Dialogue(content, nlu, SessionStore(":memory:"), clock=lambda: OPEN)
    dialogue.start(CALL, "demodam", CALLER)
    dialogue.respond(CALL, UserTurn(text=HEARD_WELL, confidence=0.92))
    bot = dialogue.respond(CALL, UserTurn(text=HEARD_BADLY, confidence=0.45))
    transfer = bot.action("transfer")
    assert transfer is not None, bot.spoken
    store.start_call(CALL, "demodam", CALLER, "+31201234567")
    return store.add_handover(CALL, transfer.handover, "transfer")


def check_card(text: str) -> None:
    """The card's visible text, transcript opened."""
    assert text.count("Onderwerp:") == 1 and f"Onderwerp: {TOPIC}" in text
    assert text.count(SUMMARY) == 1
    assert "vroeg om een medewerker" not in text  # the reason again, in other words
    for label in INTERNAL:
        assert label not in text, label
    assert text.count("Mogelijk verkeerd verstaan") == 1


def test_the_card_on_the_page(client, handover_id):
    assert login(client).status_code == 303
    page = client.get("/desk").text
    card = re.search(rf'<article [^>]*id="overdracht-{handover_id}".*?</article>', page, re.S)
    assert card
    html = card.group(0)
    check_card(unescape(re.sub(r"<[^>]+>", " ", html)).replace("  ", " "))
    assert html.count('class="summary"') == 1 and 'class="reason"' not in html
    lines = re.findall(r'<li class="line caller">.*?</li>', html, re.S)
    warned = [line for line in lines if "Mogelijk verkeerd verstaan" in line]
    assert len(lines) == 2 and len(warned) == 1 and HEARD_BADLY in warned[0]


def test_the_card_in_chromium(live, handover_id, tmp_path):
    from browser import chromium, need_chromium

    need_chromium()
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def opened(driver):
        """The card with its transcript open: (text, caller lines, summaries), or False.
        The live stream may replace the list meanwhile: then this runs again."""
        card = driver.find_element(By.ID, f"overdracht-{handover_id}")
        if not card.find_element(By.TAG_NAME, "details").get_attribute("open"):
            card.find_element(By.CSS_SELECTOR, "details > summary").click()
            return False
        lines = card.find_elements(By.CSS_SELECTOR, "ol.transcript li.caller")
        if not lines or not lines[0].is_displayed():
            return False
        return (card.text, [li.text for li in lines],
                len(card.find_elements(By.CSS_SELECTOR, "p.summary")))

    with chromium(tmp_path / "chromium") as browser:
        browser.get(f"{live.url}/desk")
        browser.find_element(By.ID, "username").send_keys("anna")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form.login button").click()
        wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,))
        text, lines, summaries = wait.until(opened)
        check_card(text)
        assert summaries == 1
        warned = [line for line in lines if "Mogelijk verkeerd verstaan" in line]
        assert len(lines) == 2 and len(warned) == 1 and HEARD_BADLY in warned[0]
