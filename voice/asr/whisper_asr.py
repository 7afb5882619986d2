"""Whisper (faster-whisper / CTranslate2) on endpointed utterances, batched across calls.

One :class:`WhisperRecognizer` per process owns the model and one worker thread.
Every utterance, from any call, is queued to that worker; jobs that arrive
together are encoded and decoded as one batch, and jobs that were cancelled
(speculative decodes the caller talked over) are dropped before they run.

The encoder window is shortened to the utterance (at least ``window_s``): the
Whisper encoder's cost grows with its input, and 30 s of padding for a 2 s
answer wastes most of it. Live utterances (a caller waits for the answer) use
the shorter ``live_window_s``, and ``busy_window_s`` while utterances queue
up from several calls: quicker turns at a small cost in accuracy (see README).
"""

import json
import logging
import math
import os
import queue
import re
import threading
import time
import zlib
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voice.asr import combine, lexicon
from voice.asr.base import Capabilities, RecognitionResult, Recognizer, Stream, Word
from voice.errors import EngineError, ModelError, RecognitionError

log = logging.getLogger(__name__)

_FRAMES_PER_S = 100
_MAX_FRAMES = 3000
# Tokens per utterance with the prompt: far more than 15 s of speech needs, half
# Whisper's 448 limit.
_MAX_TOKENS = 224
# Within that, about twice what fast Dutch speech needs (~5 tokens/s), so a decoder
# caught in a repetition loop stops early instead of running to the limit.
_TOKENS_BASE, _TOKENS_PER_S = 12, 10
# A recording this short is decoded whole (it fits the 30 s window with padding).
_WHOLE_MAX_S = 29.0
_SENTENCE = re.compile(r"(?<=[.?!])\s+")
# ``--accurate``: a second front-end, the audio after 0.15 s of silence (see README).
ACCURATE_LEAD_INS = (0.15,)
# Prompt tokens for phrase hints: the prompt and the output share Whisper's 448 tokens.
_MAX_HINT_TOKENS = 96


@dataclass(slots=True)
class WhisperOptions:
    """Decoding settings; the defaults are what ``loket eval asr`` reports."""

    beam_size: int = 5
    window_s: float = 20.0
    live_window_s: float = 10.0  # streams (live calls) trade a little accuracy for speed
    busy_window_s: float = 8.0  # and trade a little more while utterances queue up
    pad_s: float = 1.0
    temperatures: tuple[float, ...] = (0.0, 0.4, 0.8)
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    word_timestamps: bool = True
    initial_prompt: str | None = None
    max_batch: int = 4
    cpu_threads: int = 0
    compute_type: str = "int8_float32"
    pad_floor: bool = True
    rerank: bool = True
    rerank_margin: float = 1.0
    # Recordings (not live calls): extra front-ends, each the audio after this many
    # seconds of silence; their beams are pooled and one hypothesis picked by
    # minimum Bayes risk (voice/asr/combine.py). Costs one more encode and decode each.
    lead_ins: tuple[float, ...] = ()
    # Keep the beam's hypotheses as n-best alternatives with posteriors (RecognitionResult
    # .alternatives), for the dialogue to choose the reading it understands best.
    nbest: bool = True

    @classmethod
    def from_env(cls) -> "WhisperOptions":
        """Defaults, overridden by a JSON object in ``$LOKET_WHISPER_OPTIONS``."""
        raw = os.environ.get("LOKET_WHISPER_OPTIONS")
        if not raw:
            return cls()
        try:
            values = json.loads(raw)
            for key in ("temperatures", "lead_ins"):
                if key in values:
                    values[key] = tuple(values[key])
            return cls(**values)
        except (ValueError, TypeError) as exc:
            raise EngineError(f"LOKET_WHISPER_OPTIONS is not valid: {exc}") from None


@dataclass(slots=True)
class _Job:
    audio: np.ndarray
    hints: tuple[str, ...]
    offset: float
    words: bool = True  # word timings wanted
    live: bool = False  # a caller waits for it: use the live window
    future: Future = field(default_factory=Future)
    cancelled: bool = False
    done_at: float = 0.0


class WhisperRecognizer(Recognizer):
    """Batch recogniser; :meth:`stream` wraps it with an endpointer."""

    name = "whisper"
    capabilities = Capabilities(
        streaming=False, partials=True, word_timings=True, grammar=False, native_rates=(16000,)
    )

    def __init__(self, model_path: Path, options: WhisperOptions | None = None) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        self.options = options or WhisperOptions.from_env()
        self.model = str(model_path)
        try:
            self._model = WhisperModel(
                str(model_path),
                device="cpu",
                compute_type=self.options.compute_type,
                cpu_threads=self.options.cpu_threads,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"{model_path}: cannot load Whisper model ({exc})") from None
        self._tok = Tokenizer(self._model.hf_tokenizer, True, task="transcribe", language="nl")
        if self.options.rerank:
            lexicon.load()  # read the word list now, not during the first call
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="whisper-worker", daemon=True)
        self._thread.start()

    # -- public API ---------------------------------------------------------
    def stream(self, rate: int = 16000, hints: Sequence[str] | None = None) -> Stream:
        """A streaming view: endpointer + this recogniser."""
        from voice.asr.segmenting import SegmentingStream

        return SegmentingStream(self, rate, hints)

    def transcribe(
        self,
        pcm: np.ndarray,
        rate: int = 16000,
        hints: Sequence[str] | None = None,
        words: bool = True,
    ) -> RecognitionResult:
        """Recognise a whole recording.

        One that fits Whisper's window is decoded in one piece: cutting it at pauses
        loses context and the edges of words. The endpointer still decides whether
        there is speech at all (Whisper invents text for silence). Longer recordings
        are cut at pauses by the stream. ``words=False`` skips the word-timing pass.
        """
        from voice.codecs import float_to_pcm16
        from voice.resample import resample
        from voice.vad.endpointer import Endpointer, SpeechEnded

        if len(pcm) > _WHOLE_MAX_S * rate:
            return super().transcribe(pcm, rate, hints, words)
        audio = resample(pcm, rate, 16000) if rate != 16000 else pcm
        ep = Endpointer(16000)
        pcm16 = audio if audio.dtype == np.int16 else float_to_pcm16(audio)
        if not any(isinstance(e, SpeechEnded) for e in ep.feed(pcm16) + ep.flush()):
            return RecognitionResult(text="", is_final=True, confidence=None)
        return self.submit(audio, hints, words=words).future.result()

    def submit(
        self,
        audio: np.ndarray,
        hints: Sequence[str] | None = None,
        offset: float = 0.0,
        words: bool = True,
        live: bool = False,
    ) -> _Job:
        """Queue one utterance (int16 or float32, 16 kHz); the job's future gets the result.

        ``words=False`` skips word timings (an extra alignment pass) when nobody uses them;
        ``live=True`` (a caller is waiting) uses the shorter, faster encoder windows.
        """
        if audio.dtype == np.int16:
            audio = audio.astype(np.float32) / 32768.0
        job = _Job(np.asarray(audio, dtype=np.float32), tuple(hints or ()), offset, words, live)
        self._queue.put(job)
        return job

    def decode(self, audio: np.ndarray, hints: Sequence[str] | None = None) -> RecognitionResult:
        """Recognise one utterance and wait for the result."""
        return self.submit(audio, hints).future.result()

    async def decode_async(
        self, audio: np.ndarray, hints: Sequence[str] | None = None
    ) -> RecognitionResult:
        """Recognise one utterance without blocking the event loop."""
        import asyncio

        return await asyncio.wrap_future(self.submit(audio, hints).future)

    def close(self) -> None:
        """Stop the worker thread."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    # -- worker -------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            batch = [job]
            while len(batch) < self.options.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            for j in batch:
                if j.cancelled:
                    j.future.cancel()
            batch = [j for j in batch if not j.cancelled]
            if not batch:
                continue
            busy = len(batch) > 1 or not self._queue.empty()
            self._serve(batch, busy)

    def _serve(self, batch: list[_Job], busy: bool) -> None:
        """Run a batch and settle its futures; one bad job never fails the others.

        When the batch fails, each job is decoded alone; a job that still fails gets a
        :class:`RecognitionError` and the worker goes on serving other calls.
        """
        try:
            results = self._run(batch, busy)
        except Exception as exc:
            if len(batch) > 1:
                log.warning("whisper batch of %d failed (%s), decoding each job alone",
                            len(batch), type(exc).__name__)
                for j in batch:
                    self._serve([j], busy)
                return
            log.exception("whisper recognition failed")
            batch[0].done_at = time.perf_counter()
            batch[0].future.set_exception(
                RecognitionError(f"speech recognition failed ({type(exc).__name__}: {exc})")
            )
            return
        now = time.perf_counter()
        for j, r in zip(batch, results, strict=True):
            j.done_at = now
            j.future.set_result(r)

    def _window(self, n_frames: int, live: bool = False, busy: bool = False) -> int:
        o = self.options
        want = n_frames + int(o.pad_s * _FRAMES_PER_S)
        floor = o.window_s
        if live:
            floor = min(floor, o.live_window_s, o.busy_window_s if busy else math.inf)
        want = max(want, int(floor * _FRAMES_PER_S))
        return min(_MAX_FRAMES, math.ceil(want / 100) * 100)

    def _features(self, batch: list[_Job], busy: bool = False) -> tuple[np.ndarray, list[int]]:
        fe = self._model.feature_extractor
        feats = [fe(j.audio[: 30 * 16000])[:, :-1] for j in batch]
        lengths = [f.shape[1] for f in feats]
        width = max(self._window(n, j.live, busy) for n, j in zip(lengths, batch, strict=True))
        stacked = np.zeros((len(feats), feats[0].shape[0], width), dtype=np.float32)
        for i, f in enumerate(feats):
            # Pad with the log-mel floor (what silence looks like to Whisper), or zeros.
            if self.options.pad_floor:
                stacked[i] = f.min()
            stacked[i, :, : min(width, f.shape[1])] = f[:, :width]
        return stacked, lengths

    def _prompt(self, hints: tuple[str, ...]) -> list[int]:
        # Keep the first hints (the caller puts the important ones first) within budget;
        # a longer prompt would overflow the decoder and fail every decode.
        kept: list[str] = []
        for hint in hints:
            trial = ", ".join([*kept, hint])
            if len(self._tok.encode(" " + trial)) > _MAX_HINT_TOKENS:
                break
            kept.append(hint)
        hotwords = ", ".join(kept) if kept else None
        prev = (
            self._tok.encode(" " + self.options.initial_prompt)
            if self.options.initial_prompt
            else []
        )
        return self._model.get_prompt(self._tok, prev, without_timestamps=True, hotwords=hotwords)

    def _run(self, batch: list[_Job], busy: bool = False) -> list[RecognitionResult]:
        import ctranslate2

        feats, lengths = self._features(batch, busy)
        encoded = self._model.model.encode(ctranslate2.StorageView.from_array(feats))
        prompts = [self._prompt(j.hints) for j in batch]
        seconds = max(len(j.audio) for j in batch) / 16000
        # CTranslate2 counts the prompt in the length.
        longest = max(len(p) for p in prompts) + _TOKENS_BASE + int(_TOKENS_PER_S * seconds)
        max_tokens = min(_MAX_TOKENS, longest)
        outs = self._generate(encoded, prompts, [j.hints for j in batch], max_tokens)
        if self.options.lead_ins:
            try:
                outs = self._pool(batch, encoded, lengths, prompts, outs, max_tokens)
            except (RuntimeError, ValueError, IndexError):  # keep the plain decode
                log.warning("pooling the lead-in front-ends failed", exc_info=True)
        texts, keep, alts = [], [], []
        for (tokens, avg_lp, no_speech, beams, scores), job in zip(outs, batch, strict=True):
            out_tokens, hints = list(tokens), job.hints
            o = self.options
            silent = no_speech > o.no_speech_threshold and avg_lp < o.log_prob_threshold
            raw = "" if silent else self._tok.decode(tokens).strip()
            text = _drop_repeats(raw)
            if text != raw:  # align the words that are kept
                tokens = self._tok.encode(" " + text)
            if text and self.options.rerank:
                text = lexicon.correct(text, lexicon.load(), hints)
            texts.append(text)
            keep.append([t for t in tokens if t < self._tok.eot] if text and job.words else [])
            # Only a beam decode has scores to compare (not a retry nor a pooled pick).
            nbest = o.nbest and text and out_tokens in beams
            alts.append(
                self._alternatives(text, len(out_tokens), beams, scores, hints) if nbest else []
            )
        words = self._words(encoded, keep, lengths, [j.offset for j in batch])
        return [
            RecognitionResult(
                text=text,
                is_final=True,
                confidence=round(float(math.exp(out[1])), 3) if text else None,
                words=w,
                start=job.offset,
                end=job.offset + len(job.audio) / 16000,
                alternatives=alt,
            )
            for job, text, out, w, alt in zip(batch, texts, outs, words, alts, strict=True)
        ]

    def _alternatives(
        self,
        text: str,
        n_tokens: int,
        beams: list[list[int]],
        scores: list[float],
        hints: tuple[str, ...],
    ) -> list[tuple[str, float]]:
        """The beam's distinct readings with posteriors over the n-best.

        A reading's log-score is what the recogniser ranks by (the length-normalised
        log-probability, less the unknown-word rate when the word list re-ranks), times
        the result's length in tokens: a softmax of those gives the posteriors, so the
        result is normally the most probable reading. Each reading is cleaned like the
        result; readings that differ only in case or punctuation are merged. ``text``
        (the result) comes first, the rest by posterior.
        """
        if len(beams) < 2:
            return []
        words = lexicon.load() if self.options.rerank else frozenset()
        raws = [self._tok.decode(ids).strip() for ids in beams]
        logs = [
            max(1, n_tokens) * (sc - (lexicon.unknown_rate(raw, words, hints) if words else 0.0))
            for raw, sc in zip(raws, scores, strict=True)
        ]
        top = max(logs)
        weights = [math.exp(lg - top) for lg in logs]
        merged: dict[str, list] = {_reading_key(text): [text, 0.0]}
        for raw, w in zip(raws, weights, strict=True):
            reading = _drop_repeats(raw)
            if reading and words:
                reading = lexicon.correct(reading, words, hints)
            key = _reading_key(reading)
            if key:
                merged.setdefault(key, [reading, 0.0])[1] += w
        total = sum(p for _, p in merged.values())
        if total <= 0 or len(merged) < 2:
            return []
        first, *rest = merged.values()
        rest.sort(key=lambda item: -item[1])
        return [(t, round(p / total, 4)) for t, p in [first, *rest]]

    def _generate(
        self,
        encoded,
        prompts: list[list[int]],
        hints: list[tuple[str, ...]],
        max_tokens: int = _MAX_TOKENS,
    ) -> list[tuple[list[int], float, float, list[list[int]], list[float]]]:
        """Decode the batch, retrying items that look like hallucinations at higher temperature.

        Each item is (tokens, mean log-probability, no-speech probability, the beam's
        hypotheses at temperature 0, their length-normalised log-probabilities).
        """
        o = self.options
        out: list[tuple[list[int], float, float, list[list[int]], list[float]] | None] = [
            None
        ] * len(prompts)
        beams: list[list[list[int]]] = [[] for _ in prompts]
        scores: list[list[float]] = [[] for _ in prompts]
        todo = list(range(len(prompts)))
        for t_i, temp in enumerate(o.temperatures):
            if not todo:
                break
            res = self._generate_by_length(
                encoded,
                prompts,
                todo,
                beam_size=o.beam_size if temp == 0 else 1,
                num_hypotheses=o.beam_size if temp == 0 and (o.rerank or o.nbest) else 1,
                sampling_temperature=max(temp, 1e-6) if temp > 0 else 1.0,
                sampling_topk=0 if temp > 0 else 1,
                max_length=max_tokens,
                suppress_blank=True,
                suppress_tokens=[-1],
                return_scores=True,
                return_no_speech_prob=True,
            )
            retry = []
            last = t_i == len(o.temperatures) - 1
            for i, r in zip(todo, res, strict=True):
                if temp == 0:
                    beams[i] = [list(ids) for ids in r.sequences_ids]
                    scores[i] = [float(sc) for sc in r.scores]
                k = self._choose(r, hints[i]) if temp == 0 else 0
                tokens = r.sequences_ids[k]
                n = len(tokens)
                avg_lp = r.scores[k] * n / (n + 1) if n else r.scores[k]
                cand = (tokens, float(avg_lp), float(r.no_speech_prob), beams[i], scores[i])
                bad = _compression(self._tok.decode(tokens)) > o.compression_ratio_threshold or (
                    avg_lp < o.log_prob_threshold and r.no_speech_prob < o.no_speech_threshold
                )
                prev = out[i]
                if prev is None or cand[1] > prev[1]:
                    out[i] = cand
                if bad and not last:
                    retry.append(i)
            todo = retry
        return [o_ for o_ in out if o_ is not None]

    def _generate_by_length(self, encoded, prompts: list[list[int]], todo: list[int], **kw):
        """``generate`` for the items ``todo``, one call per prompt length, results in order.

        CTranslate2 wants ``<|startoftranscript|>`` at the same position in every row of a
        batch, so items whose hint prompts differ in length are decoded apart (padding a
        prompt would change what the decoder reads). The encoder output stays shared.
        """
        groups: dict[int, list[int]] = {}
        for i in todo:
            groups.setdefault(len(prompts[i]), []).append(i)
        res: dict[int, object] = {}
        for group in groups.values():
            enc = encoded if group == list(range(len(prompts))) else _select(encoded, group)
            out = self._model.model.generate(enc, [prompts[i] for i in group], **kw)
            res.update(zip(group, out, strict=True))
        return [res[i] for i in todo]

    def _pool(self, batch, encoded, lengths, prompts, outs, max_tokens: int):
        """Re-choose each recording's result from beams pooled over the lead-in front-ends."""
        import ctranslate2

        o = self.options
        todo = [
            i
            for i, (j, out) in enumerate(zip(batch, outs, strict=True))
            if not j.live and out[0] in out[3]  # skip hallucination retries
        ]
        if not todo:
            return outs
        jobs = [
            _Job(np.concatenate([np.zeros(int(s * 16000), np.float32), batch[i].audio]), (), 0.0)
            for i in todo
            for s in o.lead_ins
        ]
        feats, v_lengths = self._features(jobs)
        v_encoded = self._model.model.encode(ctranslate2.StorageView.from_array(feats))
        n = len(o.lead_ins)
        v_prompts = [prompts[i] for i in todo for _ in o.lead_ins]
        res = self._generate_by_length(
            v_encoded,
            v_prompts,
            list(range(len(v_prompts))),
            beam_size=o.beam_size,
            num_hypotheses=o.beam_size,
            max_length=max_tokens,
            suppress_blank=True,
            suppress_tokens=[-1],
        )
        outs = list(outs)
        for k, i in enumerate(todo):
            pool: dict[tuple[int, ...], None] = dict.fromkeys(tuple(t) for t in outs[i][3])
            for r in res[k * n : (k + 1) * n]:
                pool.update(dict.fromkeys(tuple(ids) for ids in r.sequences_ids))
            seqs = [list(t) for t in pool if t]
            if len(seqs) < 2:
                continue
            scores = [self._logprobs(_select(encoded, [i] * len(seqs)), seqs, lengths[i])]
            for v in range(k * n, (k + 1) * n):
                sel = _select(v_encoded, [v] * len(seqs))
                scores.append(self._logprobs(sel, seqs, v_lengths[v]))
            cands = [
                combine.Candidate(self._tok.decode(t), t, [sc[m] for sc in scores])
                for m, t in enumerate(seqs)
            ]
            words = lexicon.load() if o.rerank else frozenset()
            best = cands[combine.choose(cands, words, batch[i].hints)]
            outs[i] = (best.tokens, *outs[i][1:])
        return outs

    def _logprobs(self, encoded, seqs: list[list[int]], n_frames: int) -> list[float]:
        """Summed log-probability of each token sequence given the encoded audio."""
        aligned = self._model.model.align(
            encoded, self._tok.sot_sequence, seqs, [n_frames] * len(seqs)
        )
        return [sum(math.log(max(p, 1e-12)) for p in a.text_token_probs) for a in aligned]

    def _choose(self, result, hints: tuple[str, ...]) -> int:
        """Pick among the beam's hypotheses with the Dutch word list."""
        if not self.options.rerank or len(result.sequences_ids) < 2:
            return 0
        texts = [self._tok.decode(ids) for ids in result.sequences_ids]
        return lexicon.rerank(
            list(zip(texts, result.scores, strict=True)),
            lexicon.load(),
            hints,
            margin=self.options.rerank_margin,
        )

    def _words(
        self, encoded, tokens: list[list[int]], n_frames: list[int], offsets: list[float]
    ) -> list[list[Word]]:
        """Word timings and probabilities from the cross-attention alignment."""
        empty: list[list[Word]] = [[] for _ in tokens]
        if not self.options.word_timestamps or not any(tokens):
            return empty
        try:
            aligned = self._model.find_alignment(self._tok, tokens, encoded, n_frames)
        except (RuntimeError, ValueError, IndexError):
            log.debug("word alignment failed", exc_info=True)
            return empty
        for i, items in enumerate(aligned):
            for w in items:
                text = w["word"].strip()
                if text:
                    empty[i].append(
                        Word(
                            text,
                            offsets[i] + float(w["start"]),
                            offsets[i] + float(w["end"]),
                            round(float(w["probability"]), 3),
                        )
                    )
        return empty


def _select(encoded, indices: list[int]):
    import ctranslate2

    arr = np.asarray(encoded)[indices]
    return ctranslate2.StorageView.from_array(np.ascontiguousarray(arr))


def _reading_key(text: str) -> str:
    """A reading without case and punctuation, to merge beams that differ only in those."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _compression(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / max(1, len(zlib.compress(data))) if data else 0.0


def _drop_repeats(text: str) -> str:
    """Drop a sentence that repeats the one before it (a Whisper hallucination)."""
    kept: list[str] = []
    for sentence in _SENTENCE.split(text):
        if not kept or sentence.strip().lower() != kept[-1].strip().lower():
            kept.append(sentence)
    return " ".join(kept)
