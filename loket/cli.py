"""``loket``: one command line for the whole assistant.

Bad input ends with one line on stderr and exit code 2; set ``LOKET_DEBUG=1``
to see a traceback (frames only, no messages) for unexpected errors.
"""

import sys

import typer
from rich.console import Console

from dialogue.errors import DialogueError
from dialogue.nlu.redact import failure, stack
from loket import (
    agents_cmd,
    dialogue_cmds,
    gateway_cmds,
    logs,
    nlu_bench_cmd,
    purge_cmd,
    telephony_cmds,
    upl_cmd,
    voice_cmds,
)
from telephony.errors import TelephonyError
from voice.errors import VoiceError

app = typer.Typer(
    help="Loket: an offline Dutch phone assistant for municipalities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: '[toets 12#]' is text, not markup
)
eval_app = typer.Typer(help="Benchmarks on labelled data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
app.add_typer(voice_cmds.models_app, name="models")
app.command("transcribe")(voice_cmds.transcribe)
app.command("say")(voice_cmds.say)
eval_app.command("asr")(voice_cmds.eval_asr)
eval_app.command("spoken")(voice_cmds.eval_spoken)
bench_app = typer.Typer(help="Speed benchmarks.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
bench_app.command("asr")(voice_cmds.bench_asr)
bench_app.command("calls")(gateway_cmds.bench_calls)
bench_app.command("nlu")(nlu_bench_cmd.bench_nlu)
app.add_typer(dialogue_cmds.content_app, name="content")
dialogue_cmds.content_app.command("import-upl")(upl_cmd.import_upl)
app.command("understand")(dialogue_cmds.understand)
app.command("chat")(dialogue_cmds.chat)
eval_app.command("nlu")(dialogue_cmds.eval_nlu)
eval_app.command("safety")(dialogue_cmds.eval_safety)
app.command("replay")(telephony_cmds.replay)
app.command("serve")(gateway_cmds.serve)
app.command("call")(gateway_cmds.call)
app.add_typer(agents_cmd.agents_app, name="agents")
app.command("purge")(purge_cmd.purge)

err = Console(stderr=True, highlight=False, soft_wrap=True)


def main() -> None:
    """Console entry point with the project's error contract."""
    logs.setup()
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except (VoiceError, DialogueError, TelephonyError) as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # the contract: no traceback
        import click

        # Newer Typer vendors its own copy of click: accept both.
        vendored = getattr(getattr(typer, "_click", None), "exceptions", click.exceptions)
        if isinstance(exc, click.exceptions.Exit | typer.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.ClickException | vendored.ClickException):
            exc.show()
            sys.exit(2)
        if isinstance(exc, click.exceptions.Abort | typer.Abort):
            sys.exit(130)
        # The message may quote personal data: show where it happened, not what it said.
        if logs.debug_enabled():
            err.print(stack(exc), markup=False)
        else:
            err.print(f"error: {failure(exc)} (set LOKET_DEBUG=1 for details)", markup=False)
        sys.exit(1)
