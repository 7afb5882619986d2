"""Multi-turn flows of a caller turn: filling slots, and reaching a person.

Mixins of the core's turn handler (`dialogue.core._Turn`); they use its
session `s`, municipality `pack`, understanding `u`, clock `now` and `say`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from dialogue import escalation
from dialogue.content.schema import Slot, Topic
from dialogue.content.texts import MunicipalContent
from dialogue.intents import TOPICS
from dialogue.slots import TYPED, callback_value, correction, values_in
from dialogue.state import Pending, Session
from dialogue.turns import Action, BotTurn, Line, UserTurn

if TYPE_CHECKING:
    from dialogue.core import Dialogue
    from dialogue.nlu.understand import Understanding

SWITCH = 0.75  # a confident new intent overrides a pending slot question


class _Parts:
    """What the flows expect of the turn handler they are mixed into."""

    d: Dialogue
    s: Session
    pack: MunicipalContent
    turn: UserTurn
    now: dt.datetime
    line: Line
    u: Understanding | None

    def say(self, spoken: str, **kw) -> BotTurn:
        raise NotImplementedError

    def escalate(self, reason: str, lead: str = "", text: str | None = None,
                 data: dict[str, str] | None = None) -> BotTurn:
        raise NotImplementedError


class SlotFlow(_Parts):
    """Ask for a topic's slots one by one, confirm where asked, then finish."""

    def current_slot(self, p: Pending) -> tuple[Topic, Slot] | None:
        topic = self.pack.topics.get(p.topic or "")
        if topic is None:
            return None
        slot = next((x for x in topic.slots if x.name == p.slot), None)
        return (topic, slot) if slot else None

    def slot_answer(self, p: Pending, value: str | None = None) -> BotTurn | None:
        found = self.current_slot(p)
        if found is None:
            return None
        topic, slot = found
        if value is not None:  # keyed
            values = {slot.name: value}
        else:
            u = self.u
            if u is not None and u.intent not in TOPICS and u.intent in {
                    "afscheid", "medewerker"} and u.confidence >= SWITCH:
                return None
            values = values_in(topic.slots, self.turn.text, self.s.slots, slot, u)
        if slot.name not in values and all(self.s.slots.get(k) == v for k, v in values.items()):
            values = {}  # nothing new: as if nothing was heard
        if not values:
            u = self.u
            if u is not None and u.confidence >= SWITCH and u.intent in TOPICS \
                    and u.intent != topic.id:
                return None  # the caller moved on to something else
            self.s.misses += 1
            if self.s.misses >= self.d.max_misses + 1:
                return self.escalate("not_understood")
            return self.say(self.pack.prompt("slot_retry", prompt=slot.prompt),
                            pending=p)
        self.s.misses = 0
        self.s.slots.update(values)
        return self.next_slot(topic)

    def confirm_answer(self, p: Pending, yes: bool | None) -> BotTurn | None:
        """The answer to a read-back: yes, no, or a correction of one or more values."""
        topic = self.pack.topics.get(p.topic or "")
        if topic is None:
            return self.say(self.pack.prompt("ask"))
        if p.slot and p.value:  # a read-back of one value (sessions stored before)
            self.s.slots[p.slot] = p.value
        fixed = {} if self.turn.dtmf else correction(topic.slots, self.turn.text)
        changed = {k: v for k, v in fixed.items() if self.s.slots.get(k) != v}
        if changed:  # 'nee, huisnummer 14': only that value changes, then read back again
            self.s.slots.update(changed)
            return self.next_slot(topic)
        if yes is None:
            return None
        if yes:
            return self.slots_done(topic)
        for slot in read_back(topic):
            self.s.slots.pop(slot.name, None)
        return self.next_slot(topic)

    def next_slot(self, topic: Topic, lead: str = "", text: str | None = None,
                  intent: str | None = None) -> BotTurn:
        """Ask what is still missing; when nothing is, read back in one sentence or finish."""
        prefix = f"{lead} " if lead else ""
        kw = {"intent": intent} if intent else {}
        for slot in topic.slots:
            if slot.name not in self.s.slots:
                return self.say(prefix + self.pack.fill(slot.prompt), text=text,
                                pending=Pending("slot", topic.id, slot.name), **kw)
        slots = read_back(topic)
        if slots:
            said = ", ".join(f"{x.name.replace('_', ' ')} {spoken_value(x, self.s.slots[x.name])}"
                             for x in slots)
            shown = ", ".join(f"{x.name.replace('_', ' ')} {self.s.slots[x.name]}"
                              for x in slots)
            spoken = self.pack.prompt("confirm_slot", value=said)
            shown = self.pack.prompt("confirm_slot", value=shown)
            return self.say(prefix + spoken, text=f"{text} {shown}" if text else shown,
                            pending=Pending("confirm", topic.id), private=True, **kw)
        return self.slots_done(topic, lead, **kw)

    def slots_done(self, topic: Topic, lead: str = "", **kw) -> BotTurn:
        assert topic.done is not None
        values = {k: v for k, v in self.s.slots.items() if not k.startswith("_")}
        postcode = values.get("postcode", "")
        days = self.pack.waste_days(postcode) if postcode else None
        extra = dict(values, ophaaldagen=days or self.pack.fill(
            "Voor dit adres heb ik de ophaaldagen niet. Bel {telefoon}."))
        spoken = (f"{lead} " if lead else "") + self.pack.fill(topic.done.spoken, **extra)
        text = self.pack.fill(topic.done.text, **extra)
        data = {k: v for k, v in values.items()}
        private = any(v and v in spoken for v in values.values())
        self.s.slots = {}
        if topic.id == "melding_openbare_ruimte":
            record = escalation.handover(self.s, self.pack, "melding", self.now, data)
            return self.say(f"{spoken} {self.pack.prompt('greeting_again')}", text=text,
                            pending=Pending("anything_else"),
                            actions=[Action("record", record)], answered=True,
                            private=private, **kw)
        if not topic.automatable:
            return self.escalate("not_automatable", lead=spoken, data=data)
        return self.say(f"{spoken} {self.pack.prompt('greeting_again')}", text=text,
                        pending=Pending("anything_else"), answered=True, private=private, **kw)


class PersonFlow(_Parts):
    """Sensitive situations, transfers in office hours, callback requests outside them."""

    def sensitive(self) -> BotTurn:
        u = self.u
        assert u is not None and u.safety is not None
        self.line.intent = f"safety:{u.safety.id}"
        return self.say(f"{self.pack.fill(u.safety.spoken)} {self.pack.prompt('offer_person')}",
                        text=self.pack.fill(u.safety.text),
                        pending=Pending("offer_person", reason="sensitive"), answered=True)

    def escalate(self, reason: str, lead: str = "", text: str | None = None,
                 data: dict[str, str] | None = None) -> BotTurn:
        """To a person: a transfer in office hours, else the offer of a callback."""
        pack = self.pack
        prefix = f"{lead} " if lead else ""
        if pack.office_open(self.now):
            record = escalation.handover(self.s, pack, reason, self.now, data)
            spoken = prefix + pack.prompt("transfer")
            return self.say(spoken, text=(f"{text} " if text else "") + pack.prompt("transfer"),
                            actions=[Action("transfer", record)], end=True)
        self.s.callback = dict(data or {})
        return self.say(prefix + pack.prompt("callback_offer"),
                        text=(f"{text} " if text else "") + pack.prompt("callback_offer"),
                        pending=Pending("offer_callback", reason=reason))

    def callback_start(self, reason: str) -> BotTurn:
        self.s.callback["reden"] = reason
        return self.say(self.pack.prompt("callback_name"),
                        pending=Pending("callback", slot="naam", reason=reason))

    def callback_answer(self, p: Pending) -> BotTurn | None:
        value = callback_value(p.slot or "", self.turn.text, self.u, self.s.caller)
        if value is None:
            prompt = self.pack.prompt(f"callback_{'name' if p.slot == 'naam' else p.slot}"
                                      if p.slot != "telefoon" else "callback_phone")
            return self.say(self.pack.prompt("slot_retry", prompt=prompt), pending=p)
        return self.callback_value(p, value)

    def callback_value(self, p: Pending, value: str) -> BotTurn:
        s, pack = self.s, self.pack
        s.callback[p.slot or "naam"] = value
        if p.slot == "naam":
            return self.say(pack.prompt("callback_phone"),
                            pending=Pending("callback", slot="telefoon", reason=p.reason))
        if p.slot == "telefoon" and not s.topic:
            return self.say(pack.prompt("callback_question"),
                            pending=Pending("callback", slot="vraag", reason=p.reason))
        data = {k: v for k, v in s.callback.items() if k != "reden"}
        if "vraag" not in data and s.topic:
            data["vraag"] = pack.topics[s.topic].title
        record = escalation.handover(s, pack, "callback", self.now, data,
                                     detail=escalation.REASONS.get(p.reason or "", None),
                                     callback=True)
        s.callback = {}
        spoken = pack.prompt("callback_done", wanneer=pack.office_reopens(self.now))
        return self.say(f"{spoken} {pack.prompt('greeting_again')}",
                        pending=Pending("anything_else"), actions=[Action("callback", record)])


def read_back(topic: Topic) -> list[Slot]:
    """The slots read back before finishing: all short values, when any slot asks for it."""
    if not any(x.confirm for x in topic.slots):
        return []
    return [x for x in topic.slots if x.confirm or x.type in TYPED or x.type in ("number", "name")]


def spoken_value(slot: Slot, value: str) -> str:
    """How Loket reads a value back: '9991 AB' (spoken as 'negenennegentig eenennegentig, aa
    bee'), and '12 streepje 2' for house number 12-2, which would otherwise sound as a date."""
    if slot.type == "postcode" and len(value) == 6:
        return f"{value[:4]} {value[4:]}"
    if slot.type == "huisnummer" and "-" in value:
        return value.replace("-", " streepje ")
    return value
