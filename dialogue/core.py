"""The dialogue core: ``respond(session, user_turn) -> bot_turn`` for every channel."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from zoneinfo import ZoneInfo

from dialogue import aspects
from dialogue.content.loader import Content
from dialogue.content.schema import Topic
from dialogue.content.texts import MunicipalContent
from dialogue.errors import DialogueError
from dialogue.expect import expect_for
from dialogue.flows import PersonFlow, SlotFlow
from dialogue.intents import TOPICS
from dialogue.nlu.text import normalize
from dialogue.nlu.understand import Understander, Understanding
from dialogue.slots import slot_value, values_in
from dialogue.state import Pending, Session, SessionStore
from dialogue.turns import Action, BotTurn, Line, UserTurn

log = logging.getLogger(__name__)

YES_NO = {"followup", "anything_else", "offer_callback", "offer_person", "confirm"}
CLOSE = 0.20  # two topics this close → ask which one
UNSURE_PAIR = 0.45  # not sure of either, but together this likely → ask which one
_NEITHER = re.compile(r"\b(geen van (beide|beiden|allebei|de twee)|allebei niet|geen van die|"
                      r"niet een van (beide|die)|iets anders|nee)\b")
_ORDINAL = {"1": 0, "een": 0, "eerste": 0, "de eerste": 0, "het eerste": 0, "nummer een": 0,
            "2": 1, "twee": 1, "tweede": 1, "de tweede": 1, "het tweede": 1, "nummer twee": 1,
            "de laatste": 1, "het laatste": 1, "laatste": 1}
_NEED = re.compile(r"\b(moet ik|nodig|zonder afspraak|zomaar|gewoon langs|verplicht)\b")
_HELP = re.compile(r"\b(help|helpen|hulp|wat kan je|wat kun je|wat kunt u|menu|opties|"
                   r"waarvoor kan ik)\b")
EARLY = 0.70  # understood this surely, a paused utterance counts as complete (see complete())
# Never complete on their own: "Goedemorgen, ..." is followed by the question, and "ja" or
# "graag" outside a yes/no question is the start of one.
NOT_EARLY = {"onbekend", "groet", "bevestigen", "ontkennen"}
# A sentence does not end on an article, possessive, preposition, conjunction or hesitation.
TRAILING = frozenset({
    "de", "het", "een", "mijn", "mn", "uw", "je", "jouw", "onze", "hun", "van", "voor", "met",
    "naar", "tot", "te", "en", "of", "maar", "want", "omdat", "als", "dat", "die", "welke", "ik",
    "wij", "we", "eh", "ehm", "uh", "uhm", "graag", "wil", "wilde", "zou"})
LOW_ASR = 0.30  # below this recogniser confidence, only a very clear intent is trusted
META_TOPICS = {"afspraak", "status_aanvraag", "klacht"}  # combine with other topics
NAMED_TOPIC = 0.15  # a topic this likely beside "medewerker" is what the caller named


class Dialogue:
    """One per process; sessions live in the store, so any worker can take any turn."""

    def __init__(self, content: Content, understander: Understander | None = None,
                 store: SessionStore | None = None, max_misses: int = 2,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.content = content
        self.nlu = understander or Understander(content)
        self.store = store or SessionStore(":memory:")
        self.max_misses = max_misses
        self._clock = clock or (lambda: dt.datetime.now(ZoneInfo("Europe/Amsterdam")))

    # -- sessions ---------------------------------------------------------------

    def start(self, session_id: str, municipality: str | None = None,
              caller: str | None = None, at: dt.datetime | None = None) -> BotTurn:
        """Open a session and return the greeting."""
        pack = self.content.get(municipality) if municipality else self.content.default
        session = Session(id=session_id, municipality=pack.slug, caller=caller)
        turn = self._say(session, pack, pack.prompt("greeting"), at or self._clock())
        self.store.put(session)
        return turn

    def session(self, session_id: str) -> Session:
        session = self.store.get(session_id)
        if session is None:
            raise DialogueError(f"unknown session {session_id!r}")
        return session

    def respond(self, session: Session | str, turn: UserTurn) -> BotTurn:
        """Take one caller turn and decide what Loket says and does next."""
        s = self.session(session) if isinstance(session, str) else session
        pack = self.content.get(s.municipality)
        now = turn.at or self._clock()
        if turn.heard is not None:
            self._cut_off(s, turn.heard)
        said = turn.text.strip() if turn.text else ""
        if turn.dtmf:
            said = f"{said} [toetsen {turn.dtmf}]".strip()
        line = Line("caller", said, now.isoformat(timespec="seconds"),
                    confidence=turn.confidence)
        s.transcript.append(line)
        # what was said or keyed is personal data: its size only, never the text or digits
        log.debug("session %s: caller turn, %d characters, %d keys", s.id,
                  len(turn.text.strip()) if turn.text else 0, len(turn.dtmf or ""))
        if s.ended:
            bot = self._say(s, pack, pack.prompt("goodbye"), now, end=True)
        else:
            bot = _Turn(self, s, pack, turn, now, line).run()
        self.store.put(s)
        return bot

    def complete(self, session: Session | str, text: str) -> bool:
        """Whether ``text``, heard so far, is already a whole turn Loket can act on.

        Channels that end turns on silence (the phone) may answer early when
        this is true. Conservative: a slot or callback answer (digits come in
        groups with pauses), a greeting and words that trail off ("...voor mijn")
        are never complete; a yes/no answer to a yes/no question is; otherwise
        only a sure, known intent is.
        """
        s = self.session(session) if isinstance(session, str) else session
        words = normalize(text).split()
        if s.ended or not words or words[-1] in TRAILING:
            return False
        u = self.nlu.understand(text)
        if u.safety is not None:
            return True
        p = s.pending
        if p is not None and p.kind in ("slot", "callback"):
            return False
        answer = u.entity("yesno")
        if p is not None and p.kind == "confirm" and len(u.entities) <= 1 and (
                (answer is not None and answer.value == "nee") or u.intent == "ontkennen"):
            return False  # a read-back: after 'nee' the right value often follows a pause
        if p is not None and p.kind in YES_NO and (
                answer is not None or u.intent in ("bevestigen", "ontkennen")):
            return True
        return u.intent not in NOT_EARLY and u.confidence >= EARLY

    # -- output -----------------------------------------------------------------

    def _say(self, s: Session, pack: MunicipalContent, spoken: str, now: dt.datetime,
             text: str | None = None, pending: Pending | None = None,
             actions: list[Action] | None = None, end: bool = False,
             intent: str | None = None, confidence: float | None = None,
             answered: bool = False, private: bool = False) -> BotTurn:
        s.pending = pending
        s.last_spoken, s.last_text, s.last_private = spoken, text or spoken, private
        s.ended = s.ended or end
        s.transcript.append(Line("loket", spoken, now.isoformat(timespec="seconds")))
        log.debug("session %s: loket answers, %d characters (intent %s, %.2f sure; next %s%s)",
                  s.id, len(spoken), intent or "-", confidence or 0.0,
                  pending.kind if pending else "open question", ", ends" if end else "")
        return BotTurn(spoken=spoken, text=text or spoken, intent=intent,
                       confidence=confidence, expect=expect_for(pending, pack),
                       actions=actions or [], end=end, answered=answered, private=private)

    def _cut_off(self, s: Session, heard: str) -> None:
        """The caller interrupted: keep only what they heard; unheard questions lapse."""
        last = next((ln for ln in reversed(s.transcript) if ln.role == "loket"), None)
        if last is None:
            return
        last.cut_off = True
        last.text = heard.strip()
        question = (s.last_spoken or "").rsplit(". ", 1)[-1].strip()
        if s.pending and s.pending.kind in YES_NO and question and question not in heard:
            s.pending = None


class _Turn(SlotFlow, PersonFlow):
    """One caller turn being handled; holds the pieces every handler needs."""

    def __init__(self, dialogue: Dialogue, s: Session, pack: MunicipalContent,
                 turn: UserTurn, now: dt.datetime, line: Line) -> None:
        self.d, self.s, self.pack, self.turn, self.now, self.line = (
            dialogue, s, pack, turn, now, line)
        self.u: Understanding | None = None

    def say(self, spoken: str, **kw) -> BotTurn:
        u = self.u
        kw.setdefault("intent", u.intent if u else None)
        kw.setdefault("confidence", u.confidence if u else None)
        return self.d._say(self.s, self.pack, spoken, self.now, **kw)

    # -- entry --------------------------------------------------------------------

    def run(self) -> BotTurn:
        s, turn = self.s, self.turn
        digits = (turn.dtmf or "").strip()
        if digits:
            return self.dtmf(digits)
        self.u = u = self.d.nlu.understand(turn.text or "", turn.alternatives)
        if u.reading:  # a lower-ranked reading was understood clearly better: act on it
            self.line.reading = u.text
            self.turn = turn = replace(turn, text=u.text)
            log.debug("session %s: acting on n-best reading %d", s.id, u.reading)
        if turn.confidence is not None and turn.confidence < LOW_ASR and u.confidence < 0.8:
            u.intent = "onbekend"  # a doubtful hearing of a doubtful sentence
        self.line.intent = u.intent  # line.confidence stays the recogniser's
        if u.safety is not None:
            return self.sensitive()
        pending = s.pending
        if pending is not None:
            handled = self.pending(pending)
            if handled is not None:
                return handled
        return self.intent()

    # -- pending questions ---------------------------------------------------------

    def yes_no(self) -> str | None:
        u = self.u
        if u is None:
            return None
        answer = u.entity("yesno")
        if answer is not None:
            return answer.value
        if u.intent == "bevestigen":
            return "ja"
        if u.intent == "ontkennen":
            return "nee"
        return None

    def pending(self, p: Pending) -> BotTurn | None:
        u = self.u
        assert u is not None
        if u.intent == "herhalen":
            return None
        if u.intent == "medewerker" or (u.intent == "afscheid" and p.kind != "callback"):
            return None
        if p.kind == "slot":
            return self.slot_answer(p)
        if p.kind == "callback":
            return self.callback_answer(p)
        if p.kind == "clarify":
            return self.clarify_answer(p)
        answer = self.yes_no()
        if p.kind == "confirm":
            return self.confirm_answer(p, None if answer is None else answer == "ja")
        if answer is None:
            return None
        if answer == "nee":
            if p.kind == "anything_else":
                return self.goodbye()
            return self.say(self.pack.prompt("greeting_again"),
                            pending=Pending("anything_else"))
        if p.kind == "followup":
            return self.follow(p)
        if p.kind == "anything_else":
            return self.say(self.pack.prompt("ask"))
        if p.kind == "offer_callback":
            return self.callback_start(p.reason or "asked")
        if p.kind == "offer_person":
            return self.escalate(p.reason or "sensitive")
        return None

    def clarify_answer(self, p: Pending) -> BotTurn | None:
        """The answer to "Gaat het over A, of over B?": by name, order or keys; "nee" is
        neither; a bare "ja" asks once more; anything else is understood afresh."""
        u = self.u
        assert u is not None
        a, b = p.options
        norm = normalize(u.text)
        choice = _ORDINAL.get(norm)
        if choice is not None:
            return self.topic(p.options[choice])
        named = [i for i in self.d.nlu.classifier.keyword_hits(u.text) if i in (a, b)]
        if len(named) == 1:
            return self.topic(named[0])
        ranked = dict(u.alternatives)
        if u.intent in (a, b) or max(ranked.get(a, 0), ranked.get(b, 0)) >= 0.15:
            return self.topic(a if ranked.get(a, 0) >= ranked.get(b, 0) else b)
        if u.intent in TOPICS:
            return None  # another topic: answered as a new question
        answer = self.yes_no()
        if answer == "nee" or _NEITHER.search(norm):
            self.s.misses = 0
            return self.say(self.pack.prompt("clarify_neither"))
        if answer == "ja" and p.value != "again":
            topics = self.pack.topics
            return self.say(self.pack.prompt("clarify_again", a=topics[a].title,
                                             b=topics[b].title),
                            pending=Pending("clarify", options=[a, b], value="again"))
        return None

    def follow(self, p: Pending) -> BotTurn:
        target = p.value or ""
        topic = self.pack.topics.get(p.topic or "")
        if target == "medewerker":
            return self.escalate("asked")
        if target in TOPICS:
            return self.topic(target)
        if topic is not None:
            return self.fact(topic, target)
        return self.say(self.pack.prompt("ask"))

    # -- intents ----------------------------------------------------------------------

    def intent(self) -> BotTurn:
        u = self.u
        assert u is not None
        s, pack = self.s, self.pack
        aspect = aspects.aspect_of(u.text)
        if aspect and s.topic and aspects.is_short_followup(u.text) and (
            u.intent not in TOPICS or u.intent == s.topic or u.confidence < 0.6
        ):
            s.misses = 0
            return self.fact(pack.topics[s.topic], aspect)
        if u.intent in TOPICS:
            s.misses = 0
            close = self.close_topics()
            if close:
                a, b = close
                return self.say(
                    pack.prompt("clarify", a=pack.topics[a].title, b=pack.topics[b].title),
                    pending=Pending("clarify", options=[a, b]))
            if u.intent == "afspraak" and _NEED.search(normalize(u.text)):
                # "moet ik een afspraak maken voor mijn paspoort": that topic's answer
                named = [i for i in self.d.nlu.classifier.keyword_hits(u.text)
                         if i in TOPICS and i not in META_TOPICS]
                if named and pack.enabled(named[0]):
                    s.topic = named[0]
                    return self.fact(pack.topics[named[0]], "afspraak")
            needs = aspect != "afspraak" or _NEED.search(normalize(u.text))
            if aspect and needs and pack.enabled(u.intent):
                s.topic = u.intent
                return self.fact(pack.topics[u.intent], aspect)
            return self.topic(u.intent)
        if u.intent == "buiten_gemeente" and u.organisation is None and u.confidence < 0.6:
            u.intent = "onbekend"  # "another organisation" without knowing which: ask again
        asked_person = u.intent == "medewerker" and (
            "medewerker" in self.d.nlu.classifier.keyword_hits(u.text) or u.confidence >= 0.8)
        if not asked_person and u.organisation is None and _HELP.search(normalize(u.text)):
            s.misses = 0
            return self.say(pack.prompt("help"), pending=s.pending)
        unsure = self.unsure_topics() if u.intent == "onbekend" and u.safety is None else None
        if unsure:
            a, b = unsure
            return self.say(
                pack.prompt("clarify", a=pack.topics[a].title, b=pack.topics[b].title),
                pending=Pending("clarify", options=[a, b]), confidence=u.alternatives[0][1])
        handler = getattr(self, f"on_{u.intent}", None)
        if handler is None:
            return self.not_understood()
        if u.intent != "onbekend":
            s.misses = 0
        return handler()

    def close_topics(self) -> tuple[str, str] | None:
        """Two topics to choose between, when the caller's words fit both."""
        u = self.u
        assert u is not None
        (a, pa), (b, pb) = u.alternatives[0], u.alternatives[1]
        if a in TOPICS and b in TOPICS and pb >= 0.2 and pa - pb < CLOSE:
            return a, b
        # Both named ("mijn paspoort of rijbewijs"); meta topics combine with others.
        named = [i for i in self.d.nlu.classifier.keyword_hits(u.text)
                 if i in TOPICS and i not in META_TOPICS]
        if a in named and len(named) >= 2:
            rank = {i: n for n, (i, _) in enumerate(u.alternatives)}
            other = min((i for i in named if i != a), key=lambda i: rank.get(i, 99))
            return a, other
        # One vague word ("afval") that fits two topics.
        if len(normalize(u.text).split()) <= 2 and a in TOPICS and b in TOPICS and pb >= 0.1:
            return a, b
        return None

    def unsure_topics(self) -> tuple[str, str] | None:
        """Two topics to choose between when neither was sure enough to act on, but
        together they are likely (the evidence for what was said is split)."""
        u = self.u
        assert u is not None
        if len(u.alternatives) < 2:
            return None
        (a, pa), (b, pb) = u.alternatives[0], u.alternatives[1]
        if (a in TOPICS and b in TOPICS and pb >= 0.15 and pa + pb >= UNSURE_PAIR
                and self.pack.enabled(a) and self.pack.enabled(b)):
            return a, b
        return None

    def topic(self, topic_id: str) -> BotTurn:
        s, pack = self.s, self.pack
        topic = pack.topics[topic_id]
        s.topic = topic_id
        if not topic.enabled:
            # Switched off here: the municipality's own answer says who does it instead.
            lead = (pack.fill(topic.answer.spoken) if topic_id in pack.own_answers
                    else pack.prompt("disabled"))
            return self.say(f"{lead} {pack.prompt('greeting_again')}",
                            pending=Pending("anything_else"), intent=topic_id, answered=True)
        spoken = pack.fill(topic.answer.spoken)
        text = pack.fill(topic.answer.text)
        if topic.slots:
            # what the caller already said ('... op postcode 9991 AB 12') is not asked again
            s.slots = values_in(topic.slots, self.turn.text or "", {}) if self.u else {}
            return self.next_slot(topic, lead=spoken, text=text, intent=topic_id)
        if not topic.automatable:
            return self.escalate("not_automatable", lead=spoken, text=text)
        if topic.followup is not None:
            return self.say(f"{spoken} {pack.fill(topic.followup.question)}", text=text,
                            pending=Pending("followup", topic_id, value=topic.followup.on_yes),
                            intent=topic_id, answered=True)
        return self.say(f"{spoken} {pack.prompt('greeting_again')}", text=text,
                        pending=Pending("anything_else"), intent=topic_id, answered=True)

    def fact(self, topic: Topic, aspect: str) -> BotTurn:
        value = getattr(topic.facts, aspect, None)
        known = isinstance(value, str) and bool(value)
        spoken = self.pack.fill(value) if known else self.pack.prompt("no_fact")
        return self.say(f"{spoken} {self.pack.prompt('greeting_again')}",
                        pending=Pending("anything_else"), intent=topic.id, answered=known)

    def on_medewerker(self) -> BotTurn:
        u = self.u
        if not self.s.topic and u is not None:  # "iemand spreken over de afvalcontainer"
            named = [i for i, p in u.alternatives
                     if i in self.pack.topics and i not in META_TOPICS and p >= NAMED_TOPIC]
            if named:
                self.s.topic = named[0]  # for the agent: the topic of the handover
        return self.escalate("asked")

    def on_buiten_gemeente(self) -> BotTurn:
        u = self.u
        assert u is not None
        if u.organisation is not None:
            spoken = u.organisation.answer
        else:
            spoken = self.pack.prompt("referral_unknown")
        return self.say(f"{spoken} {self.pack.prompt('greeting_again')}",
                        pending=Pending("anything_else"), answered=True)

    def on_groet(self) -> BotTurn:
        return self.say(self.pack.prompt("ask"))

    def on_bedankt(self) -> BotTurn:
        return self.say(self.pack.prompt("thanks"), pending=Pending("anything_else"))

    def on_afscheid(self) -> BotTurn:
        return self.goodbye()

    def on_herhalen(self) -> BotTurn:
        s = self.s
        if not s.last_spoken or len(s.transcript) < 3:
            return self.say(self.pack.prompt("nothing_to_repeat"), pending=s.pending)
        return self.say(s.last_spoken, text=s.last_text, pending=s.pending,
                        private=s.last_private)

    def on_bevestigen(self) -> BotTurn:
        return self.say(self.pack.prompt("ask"))

    def on_ontkennen(self) -> BotTurn:
        return self.say(self.pack.prompt("ask"))

    def on_onbekend(self) -> BotTurn:
        return self.not_understood()

    def not_understood(self) -> BotTurn:
        s = self.s
        s.misses += 1
        if s.misses >= self.d.max_misses:
            s.misses = 0
            return self.escalate("not_understood")
        key = "not_understood" if s.misses == 1 else "not_understood_again"
        return self.say(self.pack.prompt(key), pending=s.pending)

    def goodbye(self) -> BotTurn:
        return self.say(self.pack.prompt("goodbye"), actions=[Action("hangup")], end=True)

    # -- keys ---------------------------------------------------------------------------

    def dtmf(self, digits: str) -> BotTurn:
        s, p = self.s, self.s.pending
        keys = digits.rstrip("#")
        if p is not None and p.kind == "slot":
            found = self.current_slot(p)
            if found and keys.isdigit():
                _topic, slot = found
                value = slot_value(slot, keys, s.slots, None, dtmf=True)
                if value is not None or slot.type == "postcode":
                    handled = self.slot_answer(p, value) if value else None
                    if handled is not None:
                        return handled
                    if slot.type == "postcode" and len(keys) == 4:
                        s.slots["_postcode_cijfers"] = keys
                        return self.say(self.pack.prompt("postcode_letters"), pending=p)
        if p is not None and p.kind == "callback" and p.slot == "telefoon" and len(keys) >= 10:
            return self.callback_value(p, keys)
        if keys == "0":
            return self.escalate("asked")
        if p is not None and p.kind == "clarify" and keys in {"1", "2"}:
            return self.topic(p.options[int(keys) - 1])
        if p is not None and p.kind in YES_NO and keys in {"1", "2"}:
            self.u = Understanding(digits, "bevestigen" if keys == "1" else "ontkennen", 1.0)
            handled = self.pending(p)
            if handled is not None:
                return handled
        return self.say(self.pack.prompt("not_understood"), pending=p)
