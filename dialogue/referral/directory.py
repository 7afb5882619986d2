"""The curated directory of organisations that handle what the municipality does not.

One YAML file (``content/national/organisations.yaml``) lists them, either as a plain
list or under an ``organisations:`` key. Every entry is validated: spoken fields are
short Dutch sentences without URLs, phone numbers are digits as dialled that exist in
the Dutch numbering plan (checked with ``phonenumbers``), the answer says the number the
way ``phone_spoken`` does, and every organisation has a plain Dutch ``description`` of
what residents come to it for (the referrer matches callers' words to it by meaning).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import phonenumbers
from phonenumbers import shortnumberinfo
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dialogue.content.schema import URL, sentences
from dialogue.content.yamlfile import YamlProblem, line_of, read_yaml
from dialogue.errors import ContentError

# "Gemeente": another municipality that handles it for everyone (Den Haag: voting abroad).
Level = Literal["Rijk", "Provincie", "Waterschap", "Gemeente"]

# A web address must never be read aloud; "svb punt nl" is fine, "svb.nl" is not.
_WEBSITE = re.compile(r"^(https?://)?([a-z0-9-]+\.)+[a-z]{2,}(/\S*)?$", re.I)
_LONG_NUMBER = re.compile(r"\d{4,}|\d+[ -]\d+")


def _spoken(text: str, max_sentences: int) -> str:
    """Text for the phone: no URL, no digit strings, a few short sentences (B1)."""
    if URL.search(text):
        raise ValueError("spoken text must not contain a URL or web address")
    if _LONG_NUMBER.search(text):
        raise ValueError("write numbers as they are spoken, e.g. 'nul achthonderd'")
    said = sentences(text)
    if len(said) > max_sentences:
        raise ValueError(f"spoken text has {len(said)} sentences; at most {max_sentences}")
    if any(len(s.split()) > 25 for s in said):
        raise ValueError("spoken sentence longer than 25 words; keep it short (B1)")
    return text


def _dialable(number: str) -> str:
    """Digits as dialled in the Netherlands: a real number or a known short number."""
    try:
        parsed = phonenumbers.parse(number, "NL")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not (phonenumbers.is_valid_number(parsed)
                              or shortnumberinfo.is_valid_short_number(parsed)):
        raise ValueError(f"{number!r} is not a Dutch phone number as dialled, "
                         "like 08000543 or 1400")
    return number


def _description(text: str) -> str:
    """What residents come for: 1-3 plain sentences, no URL, at least a few words."""
    if URL.search(text):
        raise ValueError("the description must not contain a URL or web address")
    told = sentences(text)
    if len(told) > 3:
        raise ValueError(f"description has {len(told)} sentences; at most 3")
    if len(text.split()) < 6:
        raise ValueError("description too short: say what residents come for")
    if any(len(s.split()) > 40 for s in told):
        raise ValueError("description sentence longer than 40 words; keep it plain")
    return text


class Organisation(BaseModel):
    """One organisation a caller can be referred to."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=2)  # official name, for logs and text channels
    spoken_name: str = Field(min_length=2)  # how Loket says it: "de Belastingdienst"
    description: str  # what residents come for, 1-3 Dutch sentences (matched by meaning)
    phone: str | None = Field(default=None, pattern=r"^\d{3,15}$")  # digits as dialled
    phone_spoken: str | None = None  # "nul achthonderd, nul vijf vier drie"
    website: str | None = None  # for text channels; never read aloud as a URL
    hours: str | None = None  # short Dutch text: "Op werkdagen van 8 tot 17 uur."
    levels: list[Level] = []  # empty for organisations outside government
    keywords: list[str] = Field(min_length=1)  # what residents say, lower case
    answer: str = Field(min_length=10)  # one or two short spoken sentences

    @field_validator("spoken_name", "phone_spoken")
    @classmethod
    def _short_spoken(cls, v: str | None) -> str | None:
        return None if v is None else _spoken(v, 1)

    @field_validator("description")
    @classmethod
    def _describe(cls, v: str) -> str:
        return _description(v)

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return None if v is None else _dialable(v)

    @field_validator("answer")
    @classmethod
    def _answer(cls, v: str) -> str:
        return _spoken(v, 2)

    @field_validator("website")
    @classmethod
    def _website(cls, v: str | None) -> str | None:
        if v is not None and not _WEBSITE.match(v):
            raise ValueError(f"{v!r} is not a web address like www.example.nl")
        return v

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("a level is listed twice")
        return v

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, v: list[str]) -> list[str]:
        seen: set[str] = set()
        for word in v:
            if not word.strip():
                raise ValueError("empty keyword")
            if word != word.lower():
                raise ValueError(f"keyword {word!r} must be lower case, as recognised")
            if word in seen:
                raise ValueError(f"keyword {word!r} is listed twice")
            seen.add(word)
        return v

    @model_validator(mode="after")
    def _phone_said(self) -> Organisation:
        if (self.phone is None) != (self.phone_spoken is None):
            raise ValueError("phone and phone_spoken go together: give both or neither")
        if self.phone_spoken and self.phone_spoken.lower() not in self.answer.lower():
            raise ValueError("the answer must say the phone number exactly as phone_spoken")
        return self


def check_directory(path: Path) -> tuple[list[Organisation], list[tuple[int, str]]]:
    """Read and validate the directory; return it and every problem as (line, message)."""
    try:
        data, lines = read_yaml(path)
    except YamlProblem as exc:
        return [], [(exc.line, str(exc))]
    except OSError as exc:
        return [], [(1, f"cannot read organisations: {exc.strerror}")]
    key: tuple[str, ...] = ()
    items: Any = data
    if isinstance(data, dict):
        key, items = ("organisations",), data.get("organisations")
    if not isinstance(items, list) or not items:
        return [], [(1, "expected a non-empty list under 'organisations:'")]

    problems: list[tuple[int, str]] = []
    out: list[Organisation] = []
    for i, item in enumerate(items):
        try:
            out.append(Organisation.model_validate(item))
        except ValidationError as exc:
            for err in exc.errors():
                loc = (*key, i, *err["loc"])
                where = ".".join(str(p) for p in loc)
                msg = err["msg"].removeprefix("Value error, ")
                problems.append((line_of(lines, loc), f"{where}: {msg}"))

    ids: set[str] = set()
    owners: dict[str, str] = {}  # keyword -> organisation id
    for i, org in enumerate(out):
        line = line_of(lines, (*key, i))
        if org.id in ids:
            problems.append((line, f"organisation id {org.id!r} is used twice"))
        ids.add(org.id)
        for word in org.keywords:
            if owners.setdefault(word, org.id) != org.id:
                problems.append(
                    (line, f"keyword {word!r} belongs to both {owners[word]!r} and {org.id!r}")
                )
    return out, problems


def load_directory(path: Path) -> list[Organisation]:
    """Read and validate the directory; raise `ContentError` naming file, line and field."""
    out, problems = check_directory(path)
    if problems:
        line, message = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ContentError(f"invalid organisations: {path}:{line}: {message}{more}")
    return out
