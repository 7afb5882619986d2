"""The one-time tokens that bind a media stream to its voice webhook."""

import pytest

from telephony.twilio.protocol import ProtocolError
from telephony.twilio.tickets import TICKET_TTL_S, CallTicket, StreamRefused, StreamTickets

CALL = "CA" + "1" * 32
OTHER = "CA" + "2" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def ticket(call_sid: str = CALL) -> CallTicket:
    return CallTicket(call_sid, "demodam", "+31612345678", "+31205550100")


def test_a_token_gives_the_webhooks_record_once():
    tickets = StreamTickets()
    token = tickets.issue(ticket())
    assert len(token) >= 32 and token != tickets.issue(ticket(OTHER))
    assert tickets.redeem(token, CALL) == ticket()
    with pytest.raises(StreamRefused, match="unknown, used or expired"):
        tickets.redeem(token, CALL)
    assert issubclass(StreamRefused, ProtocolError)  # the socket closes with 1008


def test_record_as_stream_parameters():
    assert ticket().parameters() == {"call_id": CALL, "municipality": "demodam",
                                     "caller": "+31612345678", "called": "+31205550100"}
    assert CallTicket(CALL, "demodam", None, None).parameters()["caller"] == ""


@pytest.mark.parametrize("token", ["", "x" * 32])
def test_missing_or_unknown_token(token):
    tickets = StreamTickets()
    tickets.issue(ticket())
    with pytest.raises(StreamRefused):
        tickets.redeem(token, CALL)


def test_token_for_another_call_is_refused_and_spent():
    tickets = StreamTickets()
    token = tickets.issue(ticket())
    with pytest.raises(StreamRefused, match="another call"):
        tickets.redeem(token, OTHER)
    with pytest.raises(StreamRefused):
        tickets.redeem(token, CALL)


def test_expired_token_is_refused():
    clock = Clock()
    tickets = StreamTickets(clock=clock)
    late, in_time = tickets.issue(ticket()), tickets.issue(ticket(OTHER))
    clock.now += TICKET_TTL_S - 1
    assert tickets.redeem(in_time, OTHER).call_sid == OTHER
    clock.now += 2
    with pytest.raises(StreamRefused):
        tickets.redeem(late, CALL)
    assert len(tickets) == 0  # expired tokens are dropped


def test_one_stream_per_call():
    tickets = StreamTickets()
    tickets.redeem(tickets.issue(ticket()), CALL)
    # a replayed webhook for the same call gets a token, but no second stream
    with pytest.raises(StreamRefused, match="already has a stream"):
        tickets.redeem(tickets.issue(ticket()), CALL)


def test_repeated_webhook_before_the_stream_gets_the_same_token():
    tickets = StreamTickets()
    token = tickets.issue(ticket())
    assert tickets.issue(ticket()) == token and len(tickets) == 1


def test_pending_tokens_are_bounded():
    tickets = StreamTickets(max_pending=3)
    tokens = [tickets.issue(ticket(f"CA{i:032x}")) for i in range(5)]
    assert len(tickets) == 3
    with pytest.raises(StreamRefused):
        tickets.redeem(tokens[0], f"CA{0:032x}")  # the oldest made room
    assert tickets.redeem(tokens[4], f"CA{4:032x}").call_sid == f"CA{4:032x}"


def test_remembered_calls_are_bounded():
    tickets = StreamTickets(max_calls=2)
    calls = [f"CA{i:032x}" for i in range(3)]
    for call in calls:
        tickets.redeem(tickets.issue(ticket(call)), call)
    assert tickets.streamed == 2
    with pytest.raises(StreamRefused):  # still remembered
        tickets.redeem(tickets.issue(ticket(calls[2])), calls[2])
