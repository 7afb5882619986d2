"""The UPL (Uniforme Productnamenlijst): which government level provides which product.

The official list is a CSV published at `OFFICIAL_URL`; ``import_upl`` turns it into a
compact JSON catalogue (default `default_catalogue_path()`), ``Catalogue`` matches
recognised utterances to product names. The fuzzy matching helpers here are shared
with ``resolve``: text is split into words and every window of a few words is joined
without spaces, so words the recogniser split ("huur toeslag") or merged still match.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from dialogue.errors import ContentError
from dialogue.nlu.text import normalize

OFFICIAL_URL = "https://standaarden.overheid.nl/owms/oquery/UPL-actueel.csv"
PLACEHOLDER = "UPL-naam nog niet beschikbaar"
LEVELS = ("Rijk", "Provincie", "Waterschap", "Gemeente")
REQUIRED_COLUMNS = ("UniformeProductnaam", "URI", *LEVELS, "Burger", "Bedrijf")
MAX_BYTES = 64 * 1024 * 1024  # the real list is well under 1 MB
FORMAT_VERSION = 1

# Words in product names that carry no meaning on their own.
STOPWORDS = frozenset({
    "aan", "bij", "de", "den", "der", "door", "en", "het", "in", "met", "na", "naar", "of",
    "om", "op", "over", "te", "tot", "uit", "van", "voor",
})
# Short everyday words: never a piece of a word the recogniser split ("dijk en").
FUNCTION_WORDS = STOPWORDS | frozenset({
    "al", "als", "ben", "dan", "dat", "die", "een", "er", "hij", "heb", "ik", "is", "je",
    "maar", "mijn", "niet", "nog", "ook", "u", "uw", "wat", "we", "wel", "wil", "ze", "zij",
    "zo",
})

AnyLevel = Literal["Rijk", "Provincie", "Waterschap", "Gemeente"]


class CatalogueError(ContentError):
    """The UPL source or the catalogue file cannot be used."""


# --- fuzzy matching on recognised text -------------------------------------------------


@dataclass(frozen=True)
class Gram:
    """A window of consecutive words, joined without spaces; `start`/`end` index words."""

    text: str
    start: int
    end: int  # exclusive


@dataclass(frozen=True)
class Hit:
    """Where a phrase was heard (word positions) and how well, 0..1."""

    score: float
    start: int
    end: int  # exclusive

    @property
    def span(self) -> range:
        return range(self.start, self.end)


def words(text: str) -> list[str]:
    """Normalised words: lower case, no accents, punctuation or hesitations."""
    return normalize(text).split()


def grams(tokens: Sequence[str], longest: int = 4) -> list[Gram]:
    """Every window of 1..`longest` consecutive words, joined without spaces."""
    out: list[Gram] = []
    for start in range(len(tokens)):
        for end in range(start + 1, min(len(tokens), start + longest) + 1):
            out.append(Gram("".join(tokens[start:end]), start, end))
    return out


def allowed_edits(length: int) -> int:
    """Recogniser errors tolerated in a word: none in short words, more in long ones."""
    if length <= 5:
        return 0
    if length <= 9:
        return 1
    if length <= 14:
        return 2
    return 3


SPLIT_EDITS = 1  # words split or merged by the recogniser must be spelled (almost) right
PREFIX_MIN = 8  # a phrase this long also matches the start of a longer compound word
PREFIX_PENALTY = 0.95
GAP_PENALTY = 0.05  # per extra word inside a phrase: "fiets (is) gestolen"


class PhraseMatcher:
    """Finds phrases in recognised words, tolerant of small recogniser errors.

    A phrase is heard when, with its spaces removed, it is close to

    * one word, within `allowed_edits` of its length, or the start of a longer
      compound ("kinderbijslag" in "kinderbijslagnummer");
    * a few words joined ("huur toeslag", "a o w") when the recogniser split a word,
      within `SPLIT_EDITS` and only in the last piece;
    * or, for a phrase of several words, the same words in order with at most one
      extra word between them, each within its own `allowed_edits`.

    The first letter must always be right: "ingebroken" is not "afgebroken",
    "toeslag" is never found inside "energietoeslag".
    """

    def __init__(self, phrases: Sequence[str]) -> None:
        self.phrases = [tuple(words(p)) for p in phrases]
        self.joined = ["".join(p) for p in self.phrases]
        self._budget = np.array([allowed_edits(len(j)) for j in self.joined], dtype=np.int32)
        self._multi = [i for i, p in enumerate(self.phrases) if len(p) > 1]
        self._vocab = sorted({w for i in self._multi for w in self.phrases[i]})
        self._vocab_index = {w: i for i, w in enumerate(self._vocab)}
        longest = max((len(p) for p in self.phrases), default=1)
        self._window = min(longest + 2, 5)
        self._by_length: dict[int, list[int]] = {}
        for i, j in enumerate(self.joined):
            if len(j) >= PREFIX_MIN:
                self._by_length.setdefault(len(j), []).append(i)

    def find(self, tokens: Sequence[str]) -> list[Hit | None]:
        """For each phrase its best hit in `tokens`, or None."""
        hits: list[Hit | None] = [None] * len(self.phrases)
        if not tokens or not self.phrases:
            return hits

        def offer(i: int, hit: Hit) -> None:
            current = hits[i]
            if current is None or hit.score > current.score:
                hits[i] = hit

        # Whole phrase against one word or a few joined words.
        found = grams(tokens, self._window)
        dist = process.cdist(self.joined, [g.text for g in found],
                             scorer=Levenshtein.distance, dtype=np.int32)
        for i, j in zip(*np.nonzero(dist <= self._budget[:, None]), strict=True):
            gram, d, phrase = found[j], int(dist[i, j]), self.joined[i]
            size = gram.end - gram.start
            if gram.text[0] != phrase[0]:
                continue
            if size > 1 and not self._split_ok(i, tokens[gram.start:gram.end], d):
                continue
            offer(int(i), Hit(1.0 - d / len(phrase), gram.start, gram.end))

        # The start of a longer compound word.
        for length, indexes in self._by_length.items():
            longer = [k for k, t in enumerate(tokens) if len(t) >= length + 3]
            if not longer:
                continue
            sub = process.cdist([self.joined[i] for i in indexes],
                                [tokens[k][:length] for k in longer],
                                scorer=Levenshtein.distance, dtype=np.int32)
            initials = np.array([tokens[k][0] for k in longer])
            for row, i in enumerate(indexes):
                sub[row, initials != self.joined[i][0]] = length  # first letter must match
                col = int(sub[row].argmin())
                d = int(sub[row, col])
                if d <= allowed_edits(length):
                    k = longer[col]
                    offer(i, Hit((1.0 - d / length) * PREFIX_PENALTY, k, k + 1))

        # Several words in order, each with its own tolerance, one extra word allowed.
        if self._multi:
            wd = process.cdist(self._vocab, list(tokens), scorer=Levenshtein.distance,
                               dtype=np.int32)
            for i in self._multi:
                hit = self._in_order(i, tokens, wd)
                if hit is not None:
                    offer(i, hit)
        return hits

    def _split_ok(self, i: int, pieces: Sequence[str], d: int) -> bool:
        """Whether `pieces` can be phrase `i` split up by the recogniser."""
        phrase = self.phrases[i]
        if len(pieces) != len(phrase) and any(
            p in FUNCTION_WORDS and p not in phrase for p in pieces
        ):
            return False  # "dijk en" is not "dijken"
        if d == 0:
            return True
        # Nearly exact, the error only in the last piece, and never the phrase's own
        # words (those are judged one by one in `_in_order`).
        return (d <= SPLIT_EDITS and len(pieces) != len(phrase)
                and self.joined[i].startswith("".join(pieces[:-1])))

    def _in_order(self, i: int, tokens: Sequence[str], wd: np.ndarray) -> Hit | None:
        phrase = self.phrases[i]
        rows = [self._vocab_index[w] for w in phrase]

        def close(k: int, pos: int) -> int | None:
            word = phrase[k]
            d = int(wd[rows[k], pos])
            ok = d <= allowed_edits(len(word)) and tokens[pos][0] == word[0]
            return d if ok else None

        best: Hit | None = None
        for start in range(len(tokens)):
            first = close(0, start)
            if first is None:
                continue
            total, gaps, pos = first, 0, start
            for k in range(1, len(phrase)):
                for step in (1, 2):  # the next word, or one word further
                    d = close(k, pos + step) if pos + step < len(tokens) else None
                    if d is not None:
                        total, gaps, pos = total + d, gaps + step - 1, pos + step
                        break
                else:
                    break
            else:
                score = 1.0 - total / len(self.joined[i]) - GAP_PENALTY * gaps
                if best is None or score > best.score:
                    best = Hit(score, start, pos + 1)
        return best


# --- the catalogue ----------------------------------------------------------------------


class Product(BaseModel):
    """One UPL product and the government levels that provide it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    uri: str
    levels: tuple[AnyLevel, ...] = ()
    burger: bool = False  # for residents
    bedrijf: bool = False  # for businesses


class _CatalogueFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    source: str
    imported: str
    products: list[Product]


@dataclass(frozen=True)
class ProductMatch:
    """A product found in an utterance: score 0..1 and the word positions used."""

    product: Product
    score: float
    used: frozenset[int]


@dataclass
class _Entry:
    product: Product
    words: list[str]  # meaningful words of the name
    joined: str  # the whole name without spaces


class Catalogue:
    """UPL products, matched fuzzily against recognised (lower case) text."""

    def __init__(self, products: Sequence[Product]) -> None:
        self.products = list(products)
        self._entries: list[_Entry] = []
        for product in self.products:
            tokens = words(product.name)
            if not tokens:
                continue
            meaningful = [t for t in tokens if t not in STOPWORDS] or tokens
            self._entries.append(_Entry(product, meaningful, "".join(tokens)))
        patterns = {w for e in self._entries for w in e.words}
        patterns |= {e.joined for e in self._entries if len(e.words) > 1}
        self._patterns = sorted(patterns)  # single words and whole names without spaces
        self._index = {p: i for i, p in enumerate(self._patterns)}
        self._matcher = PhraseMatcher(self._patterns)

    def __len__(self) -> int:
        return len(self.products)

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        """Read a catalogue written by `import_upl`."""
        hint = "import it with `loket content import-upl`"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CatalogueError(f"{path}: no UPL catalogue; {hint}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CatalogueError(f"{path}: unreadable UPL catalogue ({exc}); {hint}") from None
        try:
            parsed = _CatalogueFile.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise CatalogueError(
                f"{path}: invalid UPL catalogue at {where}: {first['msg']}; {hint}"
            ) from None
        if parsed.version != FORMAT_VERSION:
            raise CatalogueError(f"{path}: catalogue format {parsed.version} unknown; {hint}")
        return cls(parsed.products)

    def matches(self, text: str) -> list[ProductMatch]:
        """Every product with some evidence in `text`, best first."""
        tokens = words(text)
        if not tokens or not self._entries:
            return []
        hits = self._matcher.find(tokens)
        out: list[ProductMatch] = []
        for entry in self._entries:
            total = sum(len(w) for w in entry.words)
            got = [hits[self._index[w]] for w in entry.words]
            score = sum(len(w) * h.score for w, h in zip(entry.words, got, strict=True) if h)
            score /= total
            used = frozenset(i for h in got if h for i in h.span)
            if len(entry.words) > 1:
                whole = hits[self._index[entry.joined]]
                if whole is not None and whole.score > score:
                    score, used = whole.score, frozenset(whole.span)
            if score > 0:
                out.append(ProductMatch(entry.product, score, used))
        # Best first; on a tie the more specific (longer) name wins.
        out.sort(key=lambda m: (-m.score, -len(m.product.name)))
        return out

    def match(self, text: str, limit: int = 5,
              min_score: float = 0.5) -> list[tuple[Product, float]]:
        """The best products for an utterance with a score 0..1, best first."""
        seen: set[tuple[str, tuple[str, ...]]] = set()
        out: list[tuple[Product, float]] = []
        for m in self.matches(text):
            key = (m.product.name, m.product.levels)
            if m.score < min_score or key in seen:
                continue
            seen.add(key)
            out.append((m.product, round(m.score, 4)))
            if len(out) == limit:
                break
        return out


def default_catalogue_path() -> Path:
    """``$LOKET_DATA/upl.json``; ``LOKET_DATA`` defaults to ``~/.local/share/loket``."""
    env = os.environ.get("LOKET_DATA")
    base = Path(env) if env else Path.home() / ".local" / "share" / "loket"
    return base / "upl.json"


# --- importing the official CSV ---------------------------------------------------------


@dataclass
class ImportStats:
    """What an import produced."""

    source: str
    dest: Path
    products: int
    skipped: int  # the placeholder and rows without a name or URI
    levels: dict[str, int] = field(default_factory=dict)  # products per level

    def summary(self) -> str:
        per_level = ", ".join(f"{lvl} {self.levels.get(lvl, 0)}" for lvl in LEVELS)
        return (f"imported {self.products} UPL products ({per_level}; "
                f"{self.skipped} skipped) to {self.dest}")


def _is_url(source: str | Path) -> bool:
    return isinstance(source, str) and re.match(r"^[a-z][a-z0-9+.-]*://", source, re.I) is not None


def _fetch(url: str, timeout: float) -> bytes:
    if not re.match(r"^https?://", url, re.I):
        raise CatalogueError(f"{url}: only http(s) URLs or a file path are supported")
    request = urllib.request.Request(url, headers={"User-Agent": "loket-upl-import/1"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise CatalogueError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise CatalogueError(f"cannot download {url}: {exc.reason}") from None
    except (TimeoutError, OSError, ValueError) as exc:
        raise CatalogueError(f"cannot download {url}: {exc or type(exc).__name__}") from None
    if len(data) > MAX_BYTES:
        raise CatalogueError(f"{url}: more than {MAX_BYTES // 2**20} MB; not the UPL CSV")
    return data


def _read_source(source: str | Path, timeout: float) -> tuple[bytes, str]:
    if _is_url(source):
        return _fetch(str(source), timeout), str(source)
    path = Path(source)
    try:
        return path.read_bytes(), str(path)
    except FileNotFoundError:
        raise CatalogueError(f"{path}: file not found") from None
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read: {exc.strerror}") from None


def _flag(value: str | None) -> bool:
    return (value or "").strip().upper() in {"X", "JA", "1", "TRUE"}


def parse_upl(raw: bytes, label: str = "UPL") -> tuple[list[Product], int]:
    """Products from the official CSV bytes, and how many rows were skipped.

    The official file has one row per product and legal basis; rows sharing a URI
    are merged into one product.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CatalogueError(f"{label}: not UTF-8 text, so not the UPL CSV") from None
    if not text.strip():
        raise CatalogueError(f"{label}: empty file, expected the UPL CSV")
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            shown = ", ".join(header[:5])[:120] or "nothing"
            raise CatalogueError(
                f"{label}: not the UPL CSV: missing column(s) {', '.join(missing)} "
                f"(the first line has: {shown})"
            )
        # One row per legal basis: rows with the same URI are one product (flags merged).
        merged: dict[str, Product] = {}
        skipped = 0
        for row in reader:
            name = (row.get("UniformeProductnaam") or "").strip()
            uri = (row.get("URI") or "").strip()
            if not name or not uri or name == PLACEHOLDER:
                skipped += 1
                continue
            levels = {lvl for lvl in LEVELS if _flag(row.get(lvl))}
            burger, bedrijf = _flag(row.get("Burger")), _flag(row.get("Bedrijf"))
            if uri in merged:
                old = merged[uri]
                levels |= set(old.levels)
                burger, bedrijf = burger or old.burger, bedrijf or old.bedrijf
            merged[uri] = Product(
                name=merged[uri].name if uri in merged else name,
                uri=uri,
                levels=tuple(lvl for lvl in LEVELS if lvl in levels),
                burger=burger,
                bedrijf=bedrijf,
            )
    except csv.Error as exc:
        raise CatalogueError(f"{label}:{reader.line_num}: broken CSV: {exc}") from None
    if not merged:
        raise CatalogueError(f"{label}: no products in the UPL CSV")
    return list(merged.values()), skipped


def _write_atomic(dest: Path, text: str) -> None:
    """Write via a temporary file in the same directory, then rename over `dest`."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    except OSError as exc:
        raise CatalogueError(f"cannot write {dest}: {exc.strerror}") from None
    try:
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the catalogue is public data
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise CatalogueError(f"cannot write {dest}: {exc.strerror}") from None


def import_upl(source: str | Path, dest: Path, timeout: float = 60.0) -> ImportStats:
    """Read the UPL CSV from a file or an http(s) URL and write the JSON catalogue."""
    raw, label = _read_source(source, timeout)
    products, skipped = parse_upl(raw, label)
    payload = _CatalogueFile(
        version=FORMAT_VERSION,
        source=label,
        imported=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        products=products,
    )
    _write_atomic(dest, json.dumps(payload.model_dump(mode="json"), ensure_ascii=False,
                                   separators=(",", ":")) + "\n")
    levels = {lvl: sum(lvl in p.levels for p in products) for lvl in LEVELS}
    return ImportStats(label, dest, len(products), skipped, levels)
