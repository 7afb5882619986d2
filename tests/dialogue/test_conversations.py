"""Scripted multi-turn conversations through the real core (real classifier, real content)."""

import datetime as dt
from pathlib import Path

import pytest

from dialogue.core import Dialogue
from dialogue.state import SessionStore
from dialogue.turns import BotTurn, UserTurn

OPEN = dt.datetime(2026, 12, 8, 10, 0)  # a Tuesday morning: contact centre open
CLOSED = dt.datetime(2026, 12, 8, 22, 0)  # Tuesday night: closed


@pytest.fixture(scope="module")
def slugs(content):
    return sorted(content.municipalities)


class Call:
    """A conversation: say lines, keep the last bot turn."""

    def __init__(self, content, nlu, slug: str, at: dt.datetime = OPEN,
                 store: SessionStore | None = None, sid: str = "test") -> None:
        self.dialogue = Dialogue(content, nlu, store or SessionStore(":memory:"),
                                 clock=lambda: at)
        self.sid = sid
        self.bot = self.dialogue.start(sid, slug)

    def say(self, text: str = "", dtmf: str | None = None, heard: str | None = None) -> BotTurn:
        self.bot = self.dialogue.respond(self.sid, UserTurn(text=text, dtmf=dtmf, heard=heard))
        return self.bot

    @property
    def session(self):
        return self.dialogue.session(self.sid)


def test_greeting_names_the_municipality(content, nlu, slugs):
    for slug in slugs:
        call = Call(content, nlu, slug)
        name = content.get(slug).municipality.name
        assert name.split()[-1] in call.bot.spoken
        assert call.bot.expect.phrases and call.bot.expect.dtmf is not None


def test_question_answered_then_cost_carried_over(content, nlu, slugs):
    amounts = []
    for slug in slugs:
        call = Call(content, nlu, slug)
        bot = call.say("goedemorgen ik wil graag een nieuw paspoort aanvragen")
        assert bot.intent == "paspoort_id"
        bot = call.say("en wat kost dat")
        assert "€" in bot.spoken, bot.spoken
        amounts.append(bot.spoken)
        assert call.session.topic == "paspoort_id"
    assert amounts[0] != amounts[1]  # the demo municipalities charge differently


def test_waste_calendar_flow_by_voice(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    bot = call.say("wanneer wordt mijn afval opgehaald")
    assert bot.intent == "afvalkalender" and bot.expect.slot == "postcode"
    postcode = content.get(slugs[0]).municipality.waste_schedule[0].postcodes[0]
    spoken_code = " ".join(postcode[:4]) + " a b"
    bot = call.say(f"mijn postcode is {spoken_code}")
    assert bot.expect.slot == "huisnummer", bot.spoken
    assert not bot.answered  # a question back is no answer yet
    bot = call.say("nummer twaalf")
    assert "12" in bot.spoken  # read back for confirmation
    assert bot.private  # what the caller gave: its audio must not be cached
    bot = call.say("ja dat klopt")
    days = content.get(slugs[0]).municipality.waste_schedule[0].ophaaldagen
    assert days.split()[0] in bot.spoken, bot.spoken
    assert bot.answered and not bot.private  # the days are the same for the whole area


def test_waste_calendar_postcode_by_keypad(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    call.say("ophaaldagen van het afval")
    postcode = content.get(slugs[0]).municipality.waste_schedule[0].postcodes[0]
    bot = call.say(dtmf=f"{postcode[:4]}#")
    assert bot.expect.slot == "postcode"  # the letters still have to be said
    bot = call.say("a van anton b van bernard")
    assert bot.expect.slot == "huisnummer", bot.spoken
    bot = call.say(dtmf="7#")
    assert "7" in bot.spoken
    bot = call.say(dtmf="1")  # 1 = yes
    assert call.session.pending.kind == "anything_else"


def test_ask_for_a_person_in_office_hours_transfers(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    call.say("ik heb een vraag over mijn paspoort")
    bot = call.say("kan ik gewoon even iemand spreken")
    transfer = bot.action("transfer")
    assert transfer is not None and bot.end
    record = transfer.handover
    assert record.reason == "asked" and record.topic == "paspoort_id"
    assert "paspoort" in record.summary.lower()
    assert [line.role for line in record.transcript][:3] == ["loket", "caller", "loket"]


def test_zero_on_the_keypad_is_a_person(content, nlu, slugs):
    call = Call(content, nlu, slugs[1])
    bot = call.say(dtmf="0")
    assert bot.action("transfer") is not None


def test_out_of_hours_takes_a_callback_request(content, nlu, slugs):
    call = Call(content, nlu, slugs[0], at=CLOSED)
    bot = call.say("ik wil een medewerker spreken")
    assert bot.action("transfer") is None
    assert call.session.pending.kind == "offer_callback"
    call.say("ja graag")
    call.say("mijn naam is Jan de Vries")
    call.say("nul zes een twee drie vier vijf zes zeven acht")
    bot = call.say("het gaat over de aanslag van de gemeentelijke belastingen")
    callback = bot.action("callback")
    assert callback is not None, bot.spoken
    data = callback.handover.data
    assert data["naam"] == "Jan de Vries" and data["telefoon"] == "0612345678"
    assert "belasting" in data["vraag"]
    assert callback.handover.callback


def test_two_misunderstood_turns_escalate(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    call.say("de het van een maar")
    bot = call.say("blablabla hm kwek")
    assert bot.action("transfer") is not None
    assert bot.action("transfer").handover.reason == "not_understood"


def test_sensitive_situation_gets_the_number_first(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    bot = call.say("ik zie het niet meer zitten ik wil er een eind aan maken")
    assert "113" in bot.spoken
    assert bot.action("transfer") is None
    bot = call.say("ja")
    assert bot.action("transfer").handover.reason == "sensitive"


def test_domestic_violence_and_emergency_numbers(content, nlu, slugs):
    call = Call(content, nlu, slugs[1])
    assert "0800" in call.say("mijn man slaat me en ik ben bang thuis").spoken
    call = Call(content, nlu, slugs[1])
    assert "112" in call.say("er is hier brand in de flat en iemand is gewond").spoken


def test_no_wrong_door_referral(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    bot = call.say("ik heb een vraag over mijn huurtoeslag")
    assert bot.intent == "buiten_gemeente"
    assert "Belastingdienst" in bot.spoken
    bot = call.say("en wanneer krijg ik mijn aow")
    assert "SVB" in bot.spoken or "Sociale Verzekeringsbank" in bot.spoken


def test_not_automatable_topic_goes_to_a_person(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    bot = call.say("ik wil een klacht indienen over een medewerker van het loket")
    transfer = bot.action("transfer")
    assert transfer is not None and transfer.handover.reason == "not_automatable"


def test_repeat_and_goodbye(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    first = call.say("wat zijn de openingstijden van het gemeentehuis")
    again = call.say("wat zei u")
    assert again.spoken == first.spoken
    bot = call.say("nee dank u")
    if call.session.pending and call.session.pending.kind == "anything_else":
        bot = call.say("nee")  # the answer's follow-up was declined; now anything else?
    assert bot.action("hangup") is not None and bot.end
    assert call.say("hallo").end  # a finished call stays finished


def test_disabled_topic_differs_per_municipality(content, nlu, slugs):
    disabled = [s for s in slugs if not content.get(s).enabled("gevonden_voorwerp")]
    enabled = [s for s in slugs if content.get(s).enabled("gevonden_voorwerp")]
    assert disabled and enabled
    off = Call(content, nlu, disabled[0]).say("ik ben mijn portemonnee verloren in de stad")
    on = Call(content, nlu, enabled[0]).say("ik ben mijn portemonnee verloren in de stad")
    assert off.spoken != on.spoken


def test_state_survives_a_restart(content, nlu, slugs, tmp_path: Path):
    path = tmp_path / "sessions.sqlite3"
    call = Call(content, nlu, slugs[0], store=SessionStore(path), sid="restart")
    call.say("wanneer komen ze het afval ophalen")
    assert call.bot.expect.slot == "postcode"
    call.dialogue.store.close()
    later = Dialogue(content, nlu, SessionStore(path), clock=lambda: OPEN)
    bot = later.respond("restart", UserTurn(text="1234 AB"))
    assert bot.expect.slot == "huisnummer"


def test_interrupted_question_is_not_answered_by_yes(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    bot = call.say("hoe lang zijn de openingstijden vandaag")
    assert call.session.pending is not None
    first_words = " ".join(bot.spoken.split()[:3])
    call.say("ja", heard=first_words)
    transcript = call.session.transcript
    cut = [line for line in transcript if line.cut_off]
    assert cut and cut[0].text == first_words


def test_clarification_between_two_named_topics(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    bot = call.say("ik wil mijn paspoort of rijbewijs verlengen")
    assert call.session.pending.kind == "clarify"
    options = call.session.pending.options
    assert set(options) == {"paspoort_id", "rijbewijs"}
    assert bot.expect.dtmf is not None
    bot = call.say("de tweede")
    assert bot.intent == options[1]
    call = Call(content, nlu, slugs[0])
    call.say("ik wil mijn paspoort of rijbewijs verlengen")
    assert call.say(dtmf="1").intent == call.session.topic == options[0]


def test_appointment_question_is_answered_for_the_topic(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    bot = call.say("moet ik een afspraak maken voor mijn rijbewijs")
    assert bot.intent == "rijbewijs"
    assert content.get(slugs[0]).topics["rijbewijs"].facts.afspraak.split(".")[0] in bot.spoken


def test_help_and_doubtful_hearing(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    bot = call.say("wat kunt u allemaal voor mij doen")
    assert bot.spoken == content.get(slugs[0]).prompt("help")
    assert call.session.misses == 0
    # A vague sentence, heard with low recogniser confidence, is not acted upon.
    vague = "ik wil iets doorgeven"
    assert nlu.understand(vague).confidence < 0.8
    bot = call.dialogue.respond(call.sid, UserTurn(text=vague, confidence=0.1))
    assert call.session.misses == 1 and not bot.actions
    assert call.say("help").spoken == content.get(slugs[0]).prompt("help")


def test_the_transcript_keeps_the_top_hypothesis_and_the_reading_acted_on(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    top, other = ("ik wil een op strak maken op de gemeente thuis",
                  "ik wil een afspraak maken op het gemeentehuis")
    bot = call.dialogue.respond(call.sid, UserTurn(text=top, confidence=0.6,
                                                   alternatives=[(top, 0.6), (other, 0.4)]))
    assert bot.intent == "afspraak"
    line = [ln for ln in call.session.transcript if ln.role == "caller"][-1]
    assert (line.text, line.reading) == (top, other)
    call.say("ja")
    plain = [ln for ln in call.session.transcript if ln.role == "caller"][-1]
    assert plain.reading is None


def test_answers_are_marked_for_call_outcomes(content, nlu, slugs):
    """Only a turn that answers the caller's question counts as answered (a caller who got
    nothing but "sorry" or a callback offer was not helped)."""
    call = Call(content, nlu, slugs[0], at=CLOSED)
    assert not call.say("blub blub").answered
    assert call.say("hoeveel kost een paspoort").answered
    offer = call.say("ik wil een medewerker spreken")
    assert not offer.answered and call.session.pending.kind == "offer_callback"
    assert not call.say("ja graag").answered
    assert call.session.pending.kind == "callback"


def test_a_half_given_callback_request_is_kept_as_incomplete(content, nlu, slugs):
    from dialogue.escalation import incomplete_callback

    call = Call(content, nlu, slugs[0], at=CLOSED)
    call.say("ik wil een medewerker spreken")
    call.say("ja graag")
    call.say("Jan de Vries")
    assert call.session.pending.slot == "telefoon"
    record = incomplete_callback(call.session, content.get(slugs[0]), CLOSED)
    assert record is not None and record.callback and record.reason == "callback"
    assert record.data == {"naam": "Jan de Vries"} and "onvolledig" in record.summary
    done = Call(content, nlu, slugs[0], at=CLOSED)
    done.say("hoeveel kost een paspoort")
    assert incomplete_callback(done.session, content.get(slugs[0]), CLOSED) is None


def test_safety_comes_first_while_a_slot_is_asked(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    bot = call.say("wanneer wordt mijn afval opgehaald")
    assert bot.expect.slot == "postcode"
    bot = call.say("ach die postcode doet er niet toe, ik wil er eigenlijk niet meer zijn")
    assert "113" in bot.spoken and bot.spoken.index("113") < 80, bot.spoken
    assert call.session.transcript[-2].intent == "safety:suicide"
    assert bot.expect.slot is None  # the postcode question lapses


def test_abuse_at_home_goes_to_veilig_thuis_not_the_police(content, nlu, slugs):
    call = Call(content, nlu, slugs[0])
    bot = call.say("ik word thuis mishandeld")
    assert "Veilig Thuis" in bot.spoken and "0800-2000" in bot.spoken, bot.spoken
    assert "politie" not in bot.spoken.lower()
    assert bot.action("transfer") is None


def test_either_or_question_answered_by_name_no_or_bare_yes(content, nlu, slugs):
    pack = content.get(slugs[0])
    call = Call(content, nlu, slugs[0])
    bot = call.say("ik wil mijn paspoort of rijbewijs verlengen")
    a, b = call.session.pending.options
    assert bot.spoken == pack.prompt("clarify", a=pack.topics[a].title, b=pack.topics[b].title)
    bot = call.say("het gaat over mijn rijbewijs")
    assert bot.intent == call.session.topic == "rijbewijs"

    call = Call(content, nlu, slugs[0])
    call.say("ik wil mijn paspoort of rijbewijs verlengen")
    bot = call.say("nee, geen van beide")
    assert bot.spoken == pack.prompt("clarify_neither")
    assert call.session.pending is None and call.session.topic is None
    bot = call.say("ik wil graag iemand spreken")
    assert bot.action("transfer") is not None

    call = Call(content, nlu, slugs[0])
    call.say("ik wil mijn paspoort of rijbewijs verlengen")
    bot = call.say("ja")
    assert bot.spoken == pack.prompt("clarify_again", a=pack.topics[a].title,
                                     b=pack.topics[b].title)
    bot = call.say("de eerste")
    assert bot.intent == call.session.topic == a
