"""Dialogue.complete: may a paused utterance be answered before the turn's silence is over?"""

from test_conversations import Call


def test_a_clear_question_is_complete_a_fragment_is_not(content, nlu):
    call = Call(content, nlu, "demodam")
    assert call.dialogue.complete(call.sid, "Ik wil graag een nieuw paspoort aanvragen.")
    assert call.dialogue.complete(call.sid, "Ik wil iemand spreken.")
    assert not call.dialogue.complete(call.sid, "Ik wil graag.")
    assert not call.dialogue.complete(call.sid, "Ik heb een vraag over mijn")
    assert not call.dialogue.complete(call.sid, "Eh.")
    assert not call.dialogue.complete(call.sid, "")
    assert not call.dialogue.complete(call.sid, "Goedemorgen.")  # the question usually follows


def test_yes_no_completes_a_yes_no_question_digits_never_do(content, nlu):
    call = Call(content, nlu, "demodam")
    bot = call.say("wanneer wordt mijn afval opgehaald")
    assert call.session.pending is not None and call.session.pending.kind == "slot", bot.spoken
    # A postcode comes in groups with pauses between: wait for the whole of it.
    assert not call.dialogue.complete(call.sid, "1234.")
    assert not call.dialogue.complete(call.sid, "Ik wil graag een nieuw paspoort aanvragen.")
    call2 = Call(content, nlu, "demodam", sid="t2")
    call2.say("wat kost een paspoort")
    assert call2.session.pending is not None
    assert call2.session.pending.kind in ("followup", "anything_else"), call2.session.pending
    assert call2.dialogue.complete(call2.sid, "Ja.")
    assert call2.dialogue.complete(call2.sid, "Nee, dank u.")


def test_ended_session_is_never_complete(content, nlu):
    call = Call(content, nlu, "demodam")
    call.say("nee dat was het, dag")
    if call.session.ended:
        assert not call.dialogue.complete(call.sid, "Ik wil een paspoort.")
