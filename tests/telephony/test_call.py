"""The call loop with the real recogniser, dialogue and synthesiser; a recording Output."""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from support import FIXTURES

from dialogue.core import Dialogue
from dialogue.state import SessionStore
from dialogue.turns import UserTurn
from telephony.call import FRAME, MISHEARD, REPROMPT, SORRY, CallConfig, CallLoop, hints
from telephony.replay import RecordingOutput, phone_ulaw
from voice.codecs import mulaw_decode, mulaw_encode
from voice.tts import Speaker
from voice.tts.cache import AudioCache

pytestmark = pytest.mark.model
OPEN = dt.datetime(2026, 12, 8, 10, 0)  # a Tuesday morning: the contact centre is open
SILENCE = b"\xff" * 8000  # one second of μ-law silence
GREETING_1 = "Goedendag, u spreekt met de digitale assistent van de gemeente Demodam."


@pytest.fixture(scope="module")
def speaker(tmp_path_factory):
    return Speaker(cache=AudioCache(tmp_path_factory.mktemp("tts")))


@pytest.fixture(scope="module")
def pool():
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


@pytest.fixture
def make(whisper, content, nlu, speaker, pool):
    def _make(auto_mark: bool = True, **config) -> tuple[CallLoop, RecordingOutput]:
        out = RecordingOutput(auto_mark)
        dialogue = Dialogue(content, nlu, SessionStore(":memory:"), clock=lambda: OPEN)
        cfg = CallConfig(**{"pace": False, "reprompt_s": None, "max_call_s": None, **config})
        loop = CallLoop(dialogue, whisper, speaker, out, pool, session_id="t1",
                        municipality="demodam", config=cfg)
        out.loop = loop
        return loop, out

    return _make


async def feed(loop: CallLoop, ulaw: bytes) -> None:
    """Stream μ-law in 20 ms frames as fast as the loop takes them."""
    for i in range(0, len(ulaw) - FRAME + 1, FRAME):
        await loop.audio(ulaw[i : i + FRAME])
        await asyncio.sleep(0)


async def until(condition, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_greeting_frames_on_start_and_cached(make, speaker):
    async def body():
        loop, out = make()
        await loop.start()
        assert await loop.wait_idle()
        assert out.frames and all(len(f) == FRAME for f in out.frames)
        assert out.marks == ["1.0", "1.1"]  # one mark per sentence
        assert loop.turns[0].source == "start" and "Demodam" in loop.turns[0].said
        hits = speaker.cache.hits
        again, _ = make()
        await again.start()
        assert await again.wait_idle()
        assert speaker.cache.hits >= hits + 2  # the fixed greeting comes from the disk cache
        await loop.stop()
        await again.stop()

    asyncio.run(body())


def test_question_understood_and_answered(make):
    async def body():
        loop, out = make()
        await loop.start()
        await loop.wait_idle()
        greeting_frames = len(out.frames)
        await feed(loop, phone_ulaw(FIXTURES / "grofvuil_02.wav") + SILENCE)
        assert await loop.wait_idle()
        turn = loop.turns[1]
        assert turn.source == "speech" and turn.intent == "grofvuil"
        assert "grofvuil" in turn.said.lower()
        assert len(out.frames) > greeting_frames + 50
        assert turn.recognition_s is not None and 0 <= turn.recognition_s < 10
        assert turn.latency_s is not None and turn.latency_s >= turn.recognition_s
        await loop.stop()

    asyncio.run(body())


def test_zero_key_transfers_with_handover(make):
    async def body():
        loop, out = make()
        await loop.start()
        await loop.wait_idle()
        await loop.dtmf("0")
        await until(lambda: loop.ended)
        assert loop.turns[-1].dtmf == "0" and loop.turns[-1].actions == ["transfer"]
        assert len(out.transfers) == 1 and out.transfers[0].reason == "asked"
        assert loop.end_reason == "transfer"

    asyncio.run(body())


class FailingTransfer(RecordingOutput):
    async def transfer(self, handover):
        await super().transfer(handover)
        return False  # e.g. the Twilio API could not be reached


def test_failed_transfer_becomes_a_callback_request(whisper, content, nlu, speaker, pool):
    async def body():
        out = FailingTransfer()
        kept: list[tuple[str, str]] = []

        async def keep(handover, kind):
            kept.append((handover.reason, kind))

        dialogue = Dialogue(content, nlu, SessionStore(":memory:"), clock=lambda: OPEN)
        loop = CallLoop(dialogue, whisper, speaker, out, pool, session_id="t9",
                        municipality="demodam", on_handover=keep,
                        config=CallConfig(pace=False, reprompt_s=None, max_call_s=None))
        out.loop = loop
        await loop.start()
        await loop.wait_idle()
        assert loop.turns[0].latency_s is not None  # the greeting's latency is measured
        await loop.dtmf("0")
        await asyncio.wait_for(loop.wait_ended(), 20)
        assert loop.end_reason == "transfer_failed"
        assert kept == [("asked", "callback")] and loop.handovers[0].callback
        assert "terug" in loop.turns[-1].said and out.hangups == 1

    asyncio.run(body())


async def feed_to_pause_partial(loop: CallLoop, ulaw: bytes) -> None:
    """Feed the caller's speech up to the pause, wait for its decode, then one frame more.

    Less than the 600 ms of silence that ends a turn has been fed when this returns.
    """
    stream = loop._stream
    i = 0
    while stream._speculative is None:
        assert i < len(ulaw), "the caller never paused"
        await loop.audio(ulaw[i : i + FRAME])
        i += FRAME
    await asyncio.wrap_future(stream._speculative[1].future)
    await loop.audio(b"\xff" * FRAME)  # the next frame collects the partial


def test_complete_utterance_answered_before_the_turn_silence_ends(make):
    async def body():
        loop, _ = make()
        await loop.start()
        await loop.wait_idle()
        await feed_to_pause_partial(loop, phone_ulaw(FIXTURES / "grofvuil_02.wav"))
        await until(lambda: len(loop.turns) == 2, timeout=10)  # no more audio was needed
        assert loop.turns[1].intent == "grofvuil"
        await loop.stop()

    asyncio.run(body())


def test_without_early_end_the_turn_waits_for_its_silence(make):
    async def body():
        loop, _ = make(early_end=False)
        await loop.start()
        await loop.wait_idle()
        await feed_to_pause_partial(loop, phone_ulaw(FIXTURES / "grofvuil_02.wav"))
        await asyncio.sleep(1.0)
        assert len(loop.turns) == 1 and loop._stream.endpointer.in_speech
        await feed(loop, SILENCE)
        assert await loop.wait_idle()
        assert loop.turns[1].intent == "grofvuil"
        await loop.stop()

    asyncio.run(body())


def test_each_turn_is_handed_over_once_played(whisper, content, nlu, speaker, pool):
    async def body():
        played: list[tuple[int, str | None, int]] = []
        out = RecordingOutput(True)

        async def on_turn(turn):
            played.append((turn.index, turn.said, len(out.frames)))

        dialogue = Dialogue(content, nlu, SessionStore(":memory:"), clock=lambda: OPEN)
        loop = CallLoop(dialogue, whisper, speaker, out, pool, session_id="t1",
                        municipality="demodam", on_turn=on_turn,
                        config=CallConfig(pace=False, reprompt_s=None, max_call_s=None))
        out.loop = loop
        await loop.start()
        assert await loop.wait_idle()
        assert [p[0] for p in played] == [0] and played[0][2] == len(out.frames)
        await feed(loop, phone_ulaw(FIXTURES / "grofvuil_02.wav") + SILENCE)
        assert await loop.wait_idle()
        assert [p[0] for p in played] == [0, 1]
        assert played[1][1] == loop.turns[1].said and played[1][2] == len(out.frames)
        await loop.stop()

    asyncio.run(body())


def test_digits_collected_per_expect_spec(make):
    async def body():
        loop, _ = make(dtmf_timeout_s=0.2)
        await loop.start()
        await loop.wait_idle()
        # Put the real dialogue on the postcode question, as a spoken turn would.
        bot = loop._dialogue.respond("t1", UserTurn(text="afvalkalender"))
        loop._expect = bot.expect  # 4 digits, then '#'
        for key in "2511":
            await loop.dtmf(key)
        assert await loop.wait_idle()
        assert loop.turns[-1].dtmf == "2511"  # complete at max_digits, no '#' needed
        assert "letters" in loop.turns[-1].said
        await loop.stop()

    asyncio.run(body())


def test_barge_in_clears_and_reports_what_was_heard(make):
    async def body():
        loop, out = make(auto_mark=False)
        await loop.start()
        await until(lambda: len(out.marks) == 2)  # the greeting is queued at the far end
        await out.release(1)  # ... and its first sentence has been played
        out.auto_mark = True
        await feed(loop, phone_ulaw(FIXTURES / "grofvuil_02.wav") + SILENCE)
        assert await loop.wait_idle()
        assert out.clears == 1
        assert loop.turns[0].interrupted
        turn = loop.turns[1]
        assert turn.barged_in_after == GREETING_1
        assert turn.intent == "grofvuil"
        greeting = next(ln for ln in loop._dialogue.session("t1").transcript
                        if ln.role == "loket")
        assert greeting.cut_off and greeting.text == GREETING_1
        await loop.stop()

    asyncio.run(body())


def test_own_echo_does_not_barge_in(make):
    async def body():
        loop, out = make(auto_mark=False)
        await loop.start()
        await until(lambda: len(out.marks) == 2)
        # Loket's voice comes back 6 dB down (the least echo return loss) after 100 ms.
        sent = mulaw_decode(b"".join(out.frames)).astype(np.float32) * 0.5
        echo = b"\xff" * 800 + mulaw_encode(sent.astype(np.int16))
        await feed(loop, echo)
        assert out.clears == 0 and not loop.turns[0].interrupted
        await out.release()
        await feed(loop, SILENCE)
        assert await loop.wait_idle()
        assert len(loop.turns) == 1  # the echo never became a caller turn
        await loop.stop()

    asyncio.run(body())


def test_silence_reprompts_then_says_goodbye(make):
    async def body():
        loop, out = make(reprompt_s=0.3)
        await loop.start()
        await until(lambda: loop.ended, timeout=15)
        assert [t.source for t in loop.turns] == ["start", "silence", "silence"]
        assert loop.turns[1].said == REPROMPT
        assert "Tot ziens" in loop.turns[2].said
        assert out.hangups == 1 and loop.end_reason == "silence"

    asyncio.run(body())


def _failing(whisper, monkeypatch) -> list[bool]:
    """The real recogniser fails (as CTranslate2 once did) until the switch is set False."""
    real, on = whisper._run, [True]

    def run(batch, *args):
        if on[0]:
            raise RuntimeError("injected decoder failure")
        return real(batch, *args)

    monkeypatch.setattr(whisper, "_run", run)
    return on


def test_failed_recognition_asks_again_and_the_call_goes_on(make, whisper, monkeypatch):
    async def body():
        loop, _ = make()
        await loop.start()
        await loop.wait_idle()
        failing = _failing(whisper, monkeypatch)
        await feed(loop, phone_ulaw(FIXTURES / "grofvuil_02.wav") + SILENCE)
        assert await loop.wait_idle()
        failing[0] = False
        assert [t.source for t in loop.turns] == ["start", "misheard"]
        assert loop.turns[1].said == MISHEARD and loop.recognition_failures == 1
        assert loop.turns[1].latency_s is not None
        await feed(loop, phone_ulaw(FIXTURES / "grofvuil_02.wav") + SILENCE)
        assert await loop.wait_idle()
        assert loop.turns[2].source == "speech" and loop.turns[2].intent == "grofvuil"
        assert not loop.ended
        await loop.stop()

    asyncio.run(body())


def test_recognition_failing_again_and_again_ends_the_call_politely(make, whisper, monkeypatch):
    async def body():
        loop, out = make()
        await loop.start()
        await loop.wait_idle()
        _failing(whisper, monkeypatch)
        for _ in range(3):
            if loop.ended:
                break
            await feed(loop, phone_ulaw(FIXTURES / "ja_01.wav") + SILENCE)
            await loop.wait_idle()
        await until(lambda: loop.ended, timeout=15)
        assert [t.source for t in loop.turns] == ["start", "misheard", "misheard", "error"]
        assert loop.turns[-1].said == SORRY and out.hangups == 1
        assert loop.end_reason == "error" and loop.recognition_failures == 3

    asyncio.run(body())


def test_maximum_call_length(make):
    async def body():
        loop, out = make(max_call_s=0.5)
        await loop.start()
        await until(lambda: loop.ended, timeout=15)
        assert loop.turns[-1].source == "time_up" and out.hangups == 1
        assert loop.end_reason == "max_length"

    asyncio.run(body())


def test_malformed_input_is_ignored(make):
    async def body():
        loop, out = make()
        await loop.audio(b"\xff" * FRAME)  # before start
        await loop.start()
        await loop.wait_idle()
        for bad in (b"", b"\xff" * 161, "text", None):
            await loop.audio(bad)  # type: ignore[arg-type]
        for key in ("x", "", "12", None):
            await loop.dtmf(key)  # type: ignore[arg-type]
        await loop.mark("no-such-mark")
        assert await loop.wait_idle()
        assert len(loop.turns) == 1
        await loop.stop()
        await loop.audio(b"\xff" * FRAME)  # after stop
        await loop.dtmf("0")
        assert not out.transfers

    asyncio.run(body())


def test_hints_fit_whisper_prompt_and_keep_always_phrases():
    phrases = [f"onderwerp {i}" for i in range(100)] + ["medewerker", "herhalen"]
    got = hints(phrases)
    assert got[:2] == ["medewerker", "herhalen"]
    assert len(", ".join(got)) <= 400


def test_paced_audio_follows_real_time(make):
    async def body():
        loop, out = make(pace=True)
        await loop.start()
        await until(lambda: out.frames)
        await asyncio.sleep(0.5)
        sent = len(out.frames)
        assert 20 <= sent <= 25 + 10  # about 25 frames of 20 ms, plus the small lead
        await loop.stop()
        assert not out.hangups and not out.transfers

    asyncio.run(body())
