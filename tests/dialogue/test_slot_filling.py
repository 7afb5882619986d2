"""All slots at once: every value a caller gives is taken, in any order, read back in one
sentence, and only what is missing is asked (real classifier, real content)."""

import datetime as dt
import re

import pytest
from support import ROOT

from dialogue.core import Dialogue
from dialogue.state import SessionStore
from dialogue.turns import BotTurn, UserTurn

OPEN = dt.datetime(2026, 12, 8, 10, 0)
READ_BACK = "postcode 9991 AB, huisnummer {}"  # how the address is read back aloud


class Call:
    def __init__(self, content, nlu) -> None:
        self.dialogue = Dialogue(content, nlu, SessionStore(":memory:"), clock=lambda: OPEN)
        self.bot = self.dialogue.start("t", "demodam")

    def say(self, text: str = "", dtmf: str | None = None) -> BotTurn:
        self.bot = self.dialogue.respond("t", UserTurn(text=text, dtmf=dtmf))
        return self.bot

    @property
    def pending(self):
        return self.dialogue.session("t").pending


def asked_address(content, nlu) -> Call:
    call = Call(content, nlu)
    bot = call.say("wanneer wordt het afval opgehaald")
    assert bot.expect.slot == "postcode"
    return call


def assert_read_back(call: Call, house: str) -> None:
    bot = call.bot
    assert call.pending.kind == "confirm", bot.spoken
    assert READ_BACK.format(house) in bot.spoken, bot.spoken
    assert bot.spoken.endswith("Klopt dat?")
    assert bot.private  # it repeats what the caller said: never cached as audio


def assert_done(call: Call, house: str) -> None:
    bot = call.bot
    assert bot.answered and call.pending.kind == "anything_else", bot.spoken
    assert f"postcode 9991AB, huisnummer {house}" in bot.text


@pytest.mark.parametrize("said", [
    "9991 AB 12",
    "Postcode 9991 AB, huisnummer 12",
    "Kerkstraat 12, 9991 AB",
    "negen negen negen een a b twaalf",
    "9991 a van Anton b van Bernard, huisnummer twaalf",
    "12, 9991 AB",
])
def test_postcode_and_house_number_in_one_answer(content, nlu, said):
    call = asked_address(content, nlu)
    call.say(said)
    assert_read_back(call, "12")
    call.say("ja")
    assert_done(call, "12")


def test_the_first_sentence_fills_the_slots(content, nlu):
    call = Call(content, nlu)
    bot = call.say("wanneer wordt het afval opgehaald op postcode 9991 AB 12")
    assert bot.intent == "afvalkalender"
    assert_read_back(call, "12")
    assert bot.spoken.startswith("Ik zoek de ophaaldagen")  # the topic's answer leads
    call.say("ja dat klopt")
    assert_done(call, "12")


def test_the_first_sentence_gives_one_slot_and_only_the_other_is_asked(content, nlu):
    call = Call(content, nlu)
    bot = call.say("wanneer wordt het afval opgehaald op de Kerkstraat 12")
    assert bot.expect.slot == "postcode" and not bot.private
    call.say("9991 AB")
    assert_read_back(call, "12")


def test_two_turns_in_odd_order(content, nlu):
    call = asked_address(content, nlu)
    bot = call.say("huisnummer 12a")  # asked for the postcode, given the house number
    assert bot.expect.slot == "postcode", bot.spoken
    assert "Sorry" not in bot.spoken and not bot.private
    call.say("negen negen negen een a van anton b van bernard")
    assert_read_back(call, "12A")
    call.say("ja")
    assert_done(call, "12A")


@pytest.mark.parametrize(("correction", "house"), [
    ("nee, huisnummer 14", "14"), ("nee het is veertien", "14"), ("nee 14", "14"),
    ("nee, twaalf a", "12A"), ("ja maar het is nummer 14", "14")])
def test_a_correction_changes_only_that_slot(content, nlu, correction, house):
    call = asked_address(content, nlu)
    call.say("9991 AB 12")
    assert_read_back(call, "12")
    call.say(correction)
    assert_read_back(call, house)  # the postcode was kept
    call.say("ja")
    assert_done(call, house)


def test_no_without_a_value_asks_again_and_takes_everything(content, nlu):
    call = asked_address(content, nlu)
    call.say("9991 AB 12")
    bot = call.say("nee")
    assert bot.expect.slot == "postcode", bot.spoken
    call.say("9991 AB nummer 16")
    assert_read_back(call, "16")


def test_house_number_with_a_dash_when_asked(content, nlu):
    call = asked_address(content, nlu)
    call.say("9991 AB")
    bot = call.say("12-2")  # not a date when a house number was asked
    assert call.pending.kind == "confirm", bot.spoken
    assert "huisnummer 12-2" in bot.text
    assert "huisnummer 12 streepje 2" in bot.spoken  # '12-2' would be spoken as a date


def test_keypad_digits_then_letters_and_house_number_said(content, nlu):
    call = asked_address(content, nlu)
    bot = call.say(dtmf="9991#")
    assert bot.expect.slot == "postcode" and "letters" in bot.spoken  # as before
    call.say("a b twaalf")
    assert_read_back(call, "12")
    call.say(dtmf="1")  # 1 = yes
    assert_done(call, "12")


def test_every_written_form_is_taken_at_once(content, nlu):
    """No address in the set is asked for again after the caller gave it."""
    path = ROOT / "tests" / "data" / "slots" / "addresses.tsv"
    lines = [ln.split("\t") for ln in path.read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")][1:]
    assert len(lines) >= 60
    wrong = []
    for when, text, postcode, house in lines:
        if when != "answer" or "-" in (postcode, house):
            continue
        call = asked_address(content, nlu)
        bot = call.say(text)
        back = re.sub(r"\s", "", bot.text)
        if call.pending.kind != "confirm" or f"postcode{postcode}," not in back \
                or not back.endswith(f"huisnummer{house.replace(' ', '')}.Kloptdat?"):
            wrong.append((text, bot.text))
    assert not wrong


def test_a_bare_no_to_a_read_back_waits_for_the_correction(content, nlu):
    call = asked_address(content, nlu)
    call.say("9991 AB 12")
    assert call.pending.kind == "confirm"
    complete = call.dialogue.complete
    assert not complete("t", "Nee.")  # '..., huisnummer 14' may follow the pause
    assert complete("t", "Nee, huisnummer 14.")
    assert complete("t", "Ja, dat klopt.")
