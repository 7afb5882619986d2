"""Regenerate the caller fixtures: ``make fixtures`` (or ``python -m audio_fixtures.generate``).

Each utterance in ``utterances.tsv`` is spoken with the project's own
synthesiser, with variation that a real line has: voice variant, speed,
pitch, background noise and the telephone channel. Output: one WAV per
utterance plus ``manifest.tsv`` (file, transcript, topic, keywords, and how
it was made). Everything is deterministic, so regenerating gives the same set.
"""

import csv
import sys
from pathlib import Path

import numpy as np

from voice import PHONE_RATE, SAMPLE_RATE, audio
from voice.channel import phone_channel
from voice.resample import resample
from voice.tts import Speaker, VoiceSettings

HERE = Path(__file__).resolve().parent
LEAD_S, TAIL_S = 0.6, 1.0
VARIANTS = ("", "m3", "klatt3", "michel")
SPEEDS = (130, 120, 140)
PITCHES = (50, 40, 60, 45)
SNR_DB = 20.0


def _noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Pink-ish background noise (street/office hum), unit RMS."""
    white = rng.standard_normal(n + 64)
    pink = np.convolve(white, np.ones(64) / 8, mode="valid")[:n] + 0.3 * white[:n]
    return pink / (np.sqrt(np.mean(pink**2)) + 1e-9)


def render(speaker: Speaker, text: str, index: int) -> tuple[np.ndarray, int, dict]:
    """Speak one utterance with the variation chosen by its index."""
    rng = np.random.default_rng(1000 + index)
    s = VoiceSettings(
        variant=VARIANTS[index % len(VARIANTS)],
        wpm=SPEEDS[index % len(SPEEDS)],
        pitch=PITCHES[index % len(PITCHES)],
    )
    speech = speaker.say(text, SAMPLE_RATE, s).astype(np.float64)
    pcm = np.concatenate(
        [np.zeros(int(LEAD_S * SAMPLE_RATE)), speech, np.zeros(int(TAIL_S * SAMPLE_RATE))]
    )
    noisy = index % 4 == 1
    if noisy:
        level = np.sqrt(np.mean(speech**2)) / (10 ** (SNR_DB / 20))
        pcm = pcm + _noise(len(pcm), rng) * level
    else:  # a faint line hiss, so "silence" is never digital zero
        pcm = pcm + rng.standard_normal(len(pcm)) * 3.0
    out = np.clip(np.round(pcm), -32768, 32767).astype(np.int16)
    phone = index % 3 == 0
    rate = SAMPLE_RATE
    if phone:
        out, rate = resample(phone_channel(out, SAMPLE_RATE), SAMPLE_RATE, PHONE_RATE), PHONE_RATE
    meta = {
        "voice": s.voice + (f"+{s.variant}" if s.variant else ""),
        "wpm": s.wpm,
        "pitch": s.pitch,
        "noise": f"{SNR_DB:g}dB" if noisy else "none",
        "channel": "phone" if phone else "wide",
    }
    return out, rate, meta


def _silence(rng: np.random.Generator, seconds: float) -> np.ndarray:
    hum = _noise(int(seconds * SAMPLE_RATE), rng) * 30.0
    return np.clip(np.round(hum), -32768, 32767).astype(np.int16)


def main(out_dir: Path = HERE) -> int:
    """Write every fixture and the manifest; returns the number of files."""
    with (HERE / "utterances.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    speaker = Speaker(use_cache=False)
    manifest = []
    for i, row in enumerate(rows):
        pcm, rate, meta = render(speaker, row["transcript"], i)
        name = f"{row['name']}.wav"
        audio.save(out_dir / name, pcm, rate)
        manifest.append(
            {
                "file": name,
                "transcript": row["transcript"],
                "topic": row["topic"],
                "keywords": row["keywords"],
                **meta,
            }
        )
    rng = np.random.default_rng(7)
    audio.save(out_dir / "stilte_01.wav", _silence(rng, 3.0), SAMPLE_RATE)
    manifest.append(
        {
            "file": "stilte_01.wav",
            "transcript": "",
            "topic": "stilte",
            "keywords": "",
            "voice": "",
            "wpm": "",
            "pitch": "",
            "noise": "hum",
            "channel": "wide",
        }
    )
    with (out_dir / "manifest.tsv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(manifest[0]), delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(manifest)
    print(f"wrote {len(manifest)} fixtures to {out_dir}")
    return len(manifest)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
