"""Load and check the content packs: the national library plus one file per municipality.

Layout of a content directory::

    national/topics/<topic>.yaml   one per municipal topic
    national/conversation.yaml     conversation examples, prompts, safety texts
    national/organisations.yaml    who handles what the municipality does not
    municipalities/<slug>.yaml     one per municipality

Every problem is reported as ``file:line: message``; loading refuses invalid content.
"""

from __future__ import annotations

import os
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from dialogue.content.schema import (
    FACT_KEYS,
    PROMPTS,
    Conversation,
    MunicipalPack,
    Topic,
    TopicOverride,
)
from dialogue.content.texts import MunicipalContent
from dialogue.content.yamlfile import Lines, YamlProblem, line_of, read_yaml
from dialogue.errors import ContentError
from dialogue.intents import INTENTS, TOPICS
from dialogue.referral.directory import Organisation, check_directory

COMMON_VARS = {"gemeente", "telefoon", "adres", "website", "openingstijden"}
PROMPT_VARS = {"a", "b", "value", "prompt", "wanneer"}


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ContentInvalid(ContentError):
    """Content with problems; str() is the first, `problems` has them all."""

    def __init__(self, problems: list[Problem]) -> None:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"invalid content: {problems[0]}{more}")
        self.problems = problems


@dataclass
class Content:
    root: Path
    topics: dict[str, Topic]
    conversation: Conversation
    organisations: list[Organisation]
    municipalities: dict[str, MunicipalContent] = field(default_factory=dict)

    def get(self, slug: str) -> MunicipalContent:
        try:
            return self.municipalities[slug]
        except KeyError:
            known = ", ".join(sorted(self.municipalities)) or "none"
            raise ContentError(f"unknown municipality {slug!r} (known: {known})") from None

    def for_number(self, number: str) -> MunicipalContent | None:
        """The municipality a called number (E.164) routes to."""
        wanted = "".join(ch for ch in number if ch.isdigit() or ch == "+")
        for pack in self.municipalities.values():
            if wanted in pack.municipality.phone_numbers:
                return pack
        return None

    @property
    def default(self) -> MunicipalContent:
        return self.municipalities[sorted(self.municipalities)[0]]


def default_content_dir() -> Path:
    """``LOKET_CONTENT`` or the packs shipped with Loket."""
    env = os.environ.get("LOKET_CONTENT")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "content"


class _Reader:
    """Collects problems while reading files."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def model(self, path: Path, cls: type[BaseModel]) -> tuple[Any, Lines] | None:
        try:
            data, lines = read_yaml(path)
        except YamlProblem as exc:
            self.problem(path, exc.line, str(exc))
            return None
        except OSError as exc:
            self.problem(path, 1, f"cannot read: {exc.strerror}")
            return None
        try:
            return cls.model_validate(data), lines
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "(top)"
                msg = err["msg"].removeprefix("Value error, ")
                self.problem(path, line_of(lines, err["loc"]), f"{where}: {msg}")
            return None

    def placeholders(self, path: Path, lines: Lines, loc: tuple, text: str, allowed: set) -> None:
        try:
            names = {n for _, n, _, _ in string.Formatter().parse(text) if n is not None}
        except ValueError as exc:
            self.problem(path, line_of(lines, loc), f"{'.'.join(map(str, loc))}: {exc}")
            return
        for name in sorted(names - allowed):
            where = ".".join(map(str, loc))
            self.problem(path, line_of(lines, loc), f"{where}: unknown placeholder {{{name}}}")


def _texts(model: BaseModel, loc: tuple = ()) -> list[tuple[tuple, str]]:
    """Every string field of a model (nested), with its location."""
    out: list[tuple[tuple, str]] = []
    for name, value in model:
        if name in {"examples", "keywords", "id", "upl"}:
            continue
        if isinstance(value, str):
            out.append(((*loc, name), value))
        elif isinstance(value, BaseModel):
            out.extend(_texts(value, (*loc, name)))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    out.extend(_texts(item, (*loc, name, i)))
    return out


def _check_topic(reader: _Reader, path: Path, lines: Lines, topic: Topic | TopicOverride,
                 loc: tuple = ()) -> None:
    slots = {s.name for s in getattr(topic, "slots", [])} | {"ophaaldagen", "postcode",
                                                               "huisnummer"}
    for where, text in _texts(topic, loc):
        allowed = COMMON_VARS | (slots if "done" in where else set())
        reader.placeholders(path, lines, where, text, allowed)
    if topic.followup is not None:
        target = topic.followup.on_yes
        if target not in INTENTS and target not in FACT_KEYS:
            reader.problem(path, line_of(lines, (*loc, "followup", "on_yes")),
                           f"followup.on_yes: {target!r} is not an intent id or fact key")


def _merge(topic: Topic, override: TopicOverride) -> Topic:
    changes: dict[str, Any] = {
        name: value
        for name, value in override
        if value is not None and name not in {"examples", "keywords", "facts"}
    }
    if override.facts is not None:
        facts = topic.facts.model_dump()
        facts.update({k: v for k, v in override.facts.model_dump().items() if v is not None})
        changes["facts"] = type(topic.facts).model_validate(facts)
    changes["examples"] = [*topic.examples, *override.examples]
    changes["keywords"] = [*topic.keywords, *override.keywords]
    return topic.model_copy(update=changes)


def check_content(root: Path) -> tuple[Content | None, list[Problem]]:
    """Read everything under `root`; return the content (if valid) and all problems."""
    reader = _Reader()
    if not root.is_dir():
        reader.problem(root, 1, "content directory not found")
        return None, reader.problems

    topics: dict[str, Topic] = {}
    topic_dir = root / "national" / "topics"
    for path in sorted(topic_dir.glob("*.yaml")):
        got = reader.model(path, Topic)
        if got is None:
            continue
        topic, lines = got
        if topic.id != path.stem:
            reader.problem(path, line_of(lines, ("id",)), f"id {topic.id!r} differs from file name")
        if topic.id in topics:
            reader.problem(path, 1, f"topic {topic.id!r} defined twice")
        _check_topic(reader, path, lines, topic)
        topics[topic.id] = topic
    for missing in (t for t in TOPICS if t not in topics):
        reader.problem(topic_dir / f"{missing}.yaml", 1, f"national topic {missing!r} is missing")

    conv_path = root / "national" / "conversation.yaml"
    got = reader.model(conv_path, Conversation)
    conversation = got[0] if got else None
    if got:
        for key, text in got[0].prompts.items():
            reader.placeholders(conv_path, got[1], ("prompts", key), text,
                                COMMON_VARS | PROMPT_VARS)
        for key in sorted(set(got[0].prompts) - set(PROMPTS)):
            reader.problem(conv_path, line_of(got[1], ("prompts", key)),
                           f"prompts.{key}: unknown prompt")

    organisations = _read_organisations(reader, root / "national" / "organisations.yaml")

    municipalities: dict[str, MunicipalContent] = {}
    numbers: dict[str, Path] = {}
    pack_paths = sorted((root / "municipalities").glob("*.yaml"))
    if not pack_paths:
        reader.problem(root / "municipalities", 1, "no municipality packs")
    for path in pack_paths:
        got = reader.model(path, MunicipalPack)
        if got is None:
            continue
        pack, lines = got
        slug = pack.municipality.slug
        if slug != path.stem:
            reader.problem(path, line_of(lines, ("municipality", "slug")),
                           f"slug {slug!r} differs from file name {path.stem!r}")
        for number in pack.municipality.phone_numbers:
            if number in numbers:
                reader.problem(path, line_of(lines, ("municipality", "phone_numbers")),
                               f"number {number} also routes to {numbers[number].name}")
            numbers[number] = path
        for topic_id, override in pack.topics.items():
            _check_topic(reader, path, lines, override, ("topics", topic_id))
        if conversation is not None and not reader.problems:
            merged = {
                tid: _merge(t, pack.topics[tid]) if tid in pack.topics else t
                for tid, t in topics.items()
            }
            own = frozenset(t for t, o in pack.topics.items() if o.answer is not None)
            municipalities[slug] = MunicipalContent(pack.municipality, merged, conversation,
                                                    own)

    if reader.problems or conversation is None:
        return None, reader.problems
    return Content(root, topics, conversation, organisations, municipalities), []


def _read_organisations(reader: _Reader, path: Path) -> list[Organisation]:
    organisations, problems = check_directory(path)
    for line, message in problems:
        reader.problem(path, line, message)
    return organisations


def load_content(root: Path | None = None) -> Content:
    """Load valid content or raise `ContentInvalid` listing every problem."""
    content, problems = check_content(root or default_content_dir())
    if content is None:
        raise ContentInvalid(problems)
    return content
