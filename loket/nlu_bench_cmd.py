"""``loket bench nlu``: ablation, latency, memory and first start of understanding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

out = Console(highlight=False, soft_wrap=True)
DEFAULT_SET = Path("tests/data/nlu/testset.tsv")


def bench_nlu(
    tsv: Annotated[list[Path] | None, typer.Argument(
        help="TSVs with 'text' and 'intent' columns (default: the own test set)")] = None,
    content_dir: Annotated[Path | None, typer.Option(
        "--content", help="content directory (default: LOKET_CONTENT)")] = None,
    cold: Annotated[bool, typer.Option(
        "--first-start", help="also time a first start from an empty cache (about 2 min)")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Accuracy and confidently wrong for n-grams, embeddings and both; speed and memory."""
    from dialogue import evaluate
    from dialogue.content.loader import load_content
    from dialogue.nlu import bench
    from dialogue.nlu.understand import Understander
    from dialogue.referral.catalogue import Catalogue, default_catalogue_path

    paths = tsv or [DEFAULT_SET]
    sets = {str(p): evaluate.read_tsv(p) for p in paths}  # bad files fail before loading
    content = load_content(content_dir)
    path = default_catalogue_path()
    catalogue = Catalogue.load(path) if path.exists() else None
    before = bench.rss_mb()
    nlu = Understander(content, catalogue)
    nlu.understand("ik wil een nieuw paspoort")  # the encoder loads on first use
    memory = {"before": before, "after": bench.rss_mb()}
    memory["added"] = memory["after"] - before
    scores = {name: bench.ablation(items, nlu) for name, items in sets.items()}
    texts = [i.text for items in sets.values() for i in items]
    speed = bench.latency(texts, nlu)
    seconds = bench.first_start(content, catalogue) if cold else None
    report = bench.to_dict(scores, speed, memory, seconds)
    if json_out:
        print(json.dumps(report, ensure_ascii=False))
        return
    for name, per in report["sets"].items():
        out.print(name, markup=False)
        for variant, s in per.items():
            out.print(f"  {variant:<11} accuracy {s['accuracy']:.1%}  confidently wrong "
                      f"{s['confidently_wrong']:.1%}  onbekend {s['abstained']:.1%}  "
                      f"({s['items']} utterances)", markup=False)
    lat = report["latency_ms"]
    out.print(f"understand(): p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms per utterance "
              f"({lat['utterances']} utterances)", markup=False)
    mem = report["memory_mb"]
    out.print(f"memory: {mem['added']} MB added by the understander "
              f"({mem['before']} → {mem['after']} MB resident)", markup=False)
    if seconds is not None:
        out.print(f"first start from an empty cache: {seconds:.0f} s", markup=False)
