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


@dataclass
class Parsed:
    """One YAML file: its model when valid, and always its raw data and key lines."""

    model: Any
    data: Any
    lines: Lines


class _Reader:
    """Collects problems while reading files."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def model(self, path: Path, cls: type[BaseModel]) -> Parsed | None:
        """The file's model (None when invalid) with its raw data; None when unreadable.
        The raw data lets the other checks run on a file with schema errors too."""
        try:
            data, lines = read_yaml(path)
        except YamlProblem as exc:
            self.problem(path, exc.line, str(exc))
            return None
        except OSError as exc:
            self.problem(path, 1, f"cannot read: {exc.strerror}")
            return None
        try:
            return Parsed(cls.model_validate(data), data, lines)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "(top)"
                msg = err["msg"].removeprefix("Value error, ")
                self.problem(path, line_of(lines, err["loc"]), f"{where}: {msg}")
            return Parsed(None, data, lines)

    def placeholders(self, path: Path, lines: Lines, loc: tuple, text: str, allowed: set) -> None:
        try:
            names = {n for _, n, _, _ in string.Formatter().parse(text) if n is not None}
        except ValueError as exc:
            self.problem(path, line_of(lines, loc), f"{'.'.join(map(str, loc))}: {exc}")
            return
        for name in sorted(names - allowed):
            where = ".".join(map(str, loc))
            self.problem(path, line_of(lines, loc), f"{where}: unknown placeholder {{{name}}}")


def _texts(data: Any, loc: tuple = ()) -> list[tuple[tuple, str]]:
    """Every text in raw YAML data (nested), with its location."""
    out: list[tuple[tuple, str]] = []
    if isinstance(data, dict):
        items: list[tuple[Any, Any]] = [(str(k), v) for k, v in data.items()
                                        if str(k) not in {"examples", "keywords", "id", "upl"}]
    elif isinstance(data, list):
        items = list(enumerate(data))
    else:
        return out
    for key, value in items:
        if isinstance(value, str):
            out.append(((*loc, key), value))
        else:
            out.extend(_texts(value, (*loc, key)))
    return out


def _get(data: Any, *keys: str) -> Any:
    """A nested value of raw YAML data, or None."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _check_topic(reader: _Reader, path: Path, lines: Lines, topic: Any,
                 loc: tuple = ()) -> None:
    """Placeholders and follow-ups of a topic or override, from its raw data."""
    raw_slots = _get(topic, "slots")
    slots = {str(s["name"]) for s in raw_slots if isinstance(s, dict) and "name" in s} \
        if isinstance(raw_slots, list) else set()
    slots |= {"ophaaldagen", "postcode", "huisnummer"}
    for where, text in _texts(topic, loc):
        allowed = COMMON_VARS | (slots if "done" in where else set())
        reader.placeholders(path, lines, where, text, allowed)
    target = _get(topic, "followup", "on_yes")
    if isinstance(target, str) and target not in INTENTS and target not in FACT_KEYS:
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
    """Read everything under `root`; return the content (if valid) and all problems.

    Every file gets every check, also when it has schema errors, so one run lists all
    problems."""
    reader = _Reader()
    if not root.is_dir():
        reader.problem(root, 1, "content directory not found")
        return None, reader.problems

    topics: dict[str, Topic] = {}
    topic_dir = root / "national" / "topics"
    seen: set[str] = set()
    for path in sorted(topic_dir.glob("*.yaml")):
        got = reader.model(path, Topic)
        if got is None:
            continue
        seen.add(path.stem)
        topic_id = _get(got.data, "id")
        if isinstance(topic_id, str) and topic_id != path.stem:
            reader.problem(path, line_of(got.lines, ("id",)),
                           f"id {topic_id!r} differs from file name")
        _check_topic(reader, path, got.lines, got.data)
        if got.model is None:
            continue
        if got.model.id in topics:
            reader.problem(path, 1, f"topic {got.model.id!r} defined twice")
        topics[got.model.id] = got.model
    for missing in (t for t in TOPICS if t not in topics and t not in seen):
        reader.problem(topic_dir / f"{missing}.yaml", 1, f"national topic {missing!r} is missing")

    conv_path = root / "national" / "conversation.yaml"
    got = reader.model(conv_path, Conversation)
    conversation = got.model if got else None
    prompts = _get(got.data, "prompts") if got else None
    if got and isinstance(prompts, dict):
        for key, text in prompts.items():
            if isinstance(text, str):
                reader.placeholders(conv_path, got.lines, ("prompts", str(key)), text,
                                    COMMON_VARS | PROMPT_VARS)
        for key in sorted(set(map(str, prompts)) - set(PROMPTS)):
            reader.problem(conv_path, line_of(got.lines, ("prompts", key)),
                           f"prompts.{key}: unknown prompt")

    organisations = _read_organisations(reader, root / "national" / "organisations.yaml")

    packs: list[tuple[Path, MunicipalPack]] = []
    numbers: dict[str, Path] = {}
    pack_paths = sorted((root / "municipalities").glob("*.yaml"))
    if not pack_paths:
        reader.problem(root / "municipalities", 1, "no municipality packs")
    for path in pack_paths:
        got = reader.model(path, MunicipalPack)
        if got is None:
            continue
        lines = got.lines
        slug = _get(got.data, "municipality", "slug")
        if isinstance(slug, str) and slug != path.stem:
            reader.problem(path, line_of(lines, ("municipality", "slug")),
                           f"slug {slug!r} differs from file name {path.stem!r}")
        listed = _get(got.data, "municipality", "phone_numbers")
        for i, number in enumerate(listed if isinstance(listed, list) else []):
            if not isinstance(number, str):
                continue
            if number in numbers:
                reader.problem(path, line_of(lines, ("municipality", "phone_numbers", i)),
                               f"number {number} also routes to {numbers[number].name}")
            numbers[number] = path
        overrides = _get(got.data, "topics")
        for topic_id, override in (overrides.items() if isinstance(overrides, dict) else []):
            _check_topic(reader, path, lines, override, ("topics", str(topic_id)))
        if got.model is not None:
            packs.append((path, got.model))

    if reader.problems or conversation is None:
        return None, reader.problems
    municipalities: dict[str, MunicipalContent] = {}
    for _path, pack in packs:
        merged = {
            tid: _merge(t, pack.topics[tid]) if tid in pack.topics else t
            for tid, t in topics.items()
        }
        own = frozenset(t for t, o in pack.topics.items() if o.answer is not None)
        municipalities[pack.municipality.slug] = MunicipalContent(
            pack.municipality, merged, conversation, own)
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
