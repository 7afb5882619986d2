"""Handover records as the agent gets them: topic, one clean summary, the recogniser's
confidence per line."""

import datetime as dt

import pytest

from dialogue import escalation
from dialogue.core import Dialogue
from dialogue.state import SessionStore
from dialogue.turns import Handover, UserTurn

OPEN = dt.datetime(2026, 12, 8, 10, 0)  # a Tuesday morning: contact centre open
CLOSED = dt.datetime(2026, 12, 8, 22, 0)


def talk(content, nlu, *turns: tuple[str, float | None], at: dt.datetime = OPEN) -> Handover:
    """A conversation in demodam; returns its last handover."""
    dialogue = Dialogue(content, nlu, SessionStore(":memory:"), clock=lambda: at)
    dialogue.start("h", "demodam")
    for text, confidence in turns:
        dialogue.respond("h", UserTurn(text=text, confidence=confidence))
    return dialogue.session("h").handovers[-1]


def test_lines_keep_the_recognisers_confidence(content, nlu):
    record = talk(content, nlu, ("mijn paspoort is verlopen", 0.92),
                  ("ik wil een medewerker spreken", 0.45))
    said = [(line.text, line.confidence) for line in record.transcript if line.role == "caller"]
    assert said == [("mijn paspoort is verlopen", 0.92), ("ik wil een medewerker spreken", 0.45)]
    assert [line.intent for line in record.transcript if line.role == "caller"] == [
        "paspoort_id", "medewerker"]


def test_summary_is_one_clean_sentence(content, nlu):
    record = talk(content, nlu, ("mijn paspoort is verlopen", 0.9),
                  ("ik wil een medewerker spreken", 0.9))
    assert record.topic == "paspoort_id"
    assert record.summary == "Beller wil een medewerker spreken over paspoort of ID-kaart."


def test_a_callback_summary_does_not_repeat_the_data(content, nlu):
    record = talk(content, nlu, ("ik wil een medewerker spreken", 0.9), ("ja graag", 0.9),
                  ("mijn naam is Jan de Vries", 0.9),
                  ("nul zes een twee drie vier vijf zes zeven acht", 0.9),
                  ("het gaat over de aanslag van de gemeentelijke belastingen", 0.9), at=CLOSED)
    assert record.callback and record.data["naam"] == "Jan de Vries"
    assert "Jan" not in record.summary and "0612345678" not in record.summary
    assert record.summary.startswith("Beller vraagt om teruggebeld te worden")


def test_the_topic_named_when_asking_for_a_person_is_kept(content, nlu):
    record = talk(content, nlu, ("mag ik een mens spreken over de afvalcontainer", 0.9))
    assert record.reason == "asked" and record.topic == "afvalcontainer"
    assert record.summary == "Beller wil een medewerker spreken over afvalcontainer."
    plain = talk(content, nlu, ("Ik heb een vraag over mijn aangifte bij de belastingdienst", 0.9),
                 ("ik wil een medewerker spreken", 0.9))
    assert plain.topic is None and plain.summary == (
        "Beller wil een medewerker spreken. "
        "De beller zei: 'Ik heb een vraag over mijn aangifte bij de belastingdienst'.")


@pytest.mark.parametrize(("title", "label"), [
    ("uw paspoort of ID-kaart", "Paspoort of ID-kaart"),
    ("de ophaaldagen van het afval", "Ophaaldagen van het afval"),
    ("een afspraak maken, verzetten of afzeggen", "Afspraak maken, verzetten of afzeggen"),
    ("de verkiezingen, uw stempas of een volmacht", "Verkiezingen, de stempas of een volmacht"),
    ("grofvuil laten ophalen of wegbrengen", "Grofvuil laten ophalen of wegbrengen"),
])
def test_topic_labels_for_the_agent(title, label):
    assert escalation.topic_label(title) == label


def test_a_report_summary_names_the_report_once(content, nlu):
    dialogue = Dialogue(content, nlu, SessionStore(":memory:"), clock=lambda: OPEN)
    dialogue.start("m", "demodam")
    text = escalation.summary(dialogue.session("m"), content.get("demodam"), "melding",
                              "melding_openbare_ruimte", {"locatie": "Kerkstraat 12"})
    assert text == "Beller doet een melding over de openbare ruimte."
