"""`aelab` command line: a thin layer over the library. `main(argv)` returns the exit code.

Errors are one line on stderr: exit 2 for bad usage or input, 1 for an internal failure (traceback only
with --debug), 130 when interrupted.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import click

from .data.spec import DEFAULT_SEED, DEFAULT_VAL_FRACTION, MAX_SEED
from .errors import AelabError, ConfigError

PRESET_CHOICES = click.Choice(["lab", "best"])


class ModelName(click.Choice):
    """The registry's models, read when a command runs: a model registered after import is a valid choice."""

    def __init__(self):
        super().__init__([])

    @property
    def choices(self):
        from .models import list_models

        return list_models()

    @choices.setter
    def choices(self, _value):
        pass  # click.Choice.__init__ assigns the (empty) list; the registry is the only source


def _echo(msg: str) -> None:
    click.echo(msg, err=False)


def in_order(*options):
    """Apply click options so that --help lists them in the order given (each `f = option(f)` puts the newest
    first)."""

    def apply(f):
        for option in reversed(options):
            f = option(f)
        return f

    return apply


test_data_options = in_order(
    click.option(
        "--test-data",
        default=None,
        type=click.Path(),
        help="A test set of its own (e.g. a UCR/UEA _TEST file): the whole file is the test split.",
    ),
    click.option(
        "--test-labels", default=None, type=click.Path(), help="Labels per sample (.npy) or stream step (.txt)."
    ),
)

data_options = in_order(
    click.option(
        "--data",
        default=None,
        help="cifar10 | digits | synthetic | a path (image folder, .npy, .csv, .parquet, or a UCR/UEA .tsv or .ts). "
        "Default: cifar10 for image models, synthetic for sequence models.",
    ),
    click.option("--labels", default=None, type=click.Path(), help="Labels per sample (.npy) or stream step (.txt)."),
    test_data_options,
    click.option(
        "--window",
        default=None,
        help="Read --data as one stream (rows in time order: a CSV, a .parquet, a .txt or a 2-D .npy) cut into "
        "windows of W steps; 'auto': one dominant period of the data (by autocorrelation).",
    ),
    click.option(
        "--stride",
        default=None,
        type=click.IntRange(min=1),
        help="Steps between window starts, for training and scoring (default: an eighth of the window).",
    ),
    click.option(
        "--length",
        default=None,
        type=click.IntRange(min=2),
        help="Ragged sequences: cut each to at most N steps (default: pad to the longest; padding is masked).",
    ),
    click.option(
        "--image-size",
        default=None,
        help="HxW: scale image files to cover it and centre-crop (for folders of photos of different sizes); "
        "encode, reconstruct and score apply it too.",
    ),
    click.option(
        "--cifar10",
        "cifar10",
        default=None,
        type=click.Path(),
        help="Where CIFAR-10 lies (batches dir, tarball or image folder); else $AELAB_CIFAR10.",
    ),
    click.option("--train-size", default=None, help="Training pool before the validation split: N or 'all'."),
    click.option("--test-size", default=None, help="Test samples: N or 'all'."),
    click.option(
        "--val-fraction",
        default=DEFAULT_VAL_FRACTION,
        show_default=True,
        type=float,
        help="Share of the training pool held out for validation.",
    ),
    click.option("--seed", default=DEFAULT_SEED, show_default=True, type=click.IntRange(0, MAX_SEED)),
)

latent_option = click.option(
    "--latent-dim",
    type=int,
    default=None,
    help="Latent size (default 32 for images, 20 for sequences, at most half the values of a sample; "
    "tables: 8 or fewer; streams: at most W*F/8).",
)

training_options = in_order(  # how a model trains: what `aelab train` and `aelab sweep` both take
    click.option(
        "--preset",
        default="lab",
        show_default=True,
        type=PRESET_CHOICES,
        help="lab: fits the lab's time budget; best: longer, best quality.",
    ),
    click.option("--epochs", type=int, default=None, help="Override the preset's epochs."),
    click.option("--batch-size", type=int, default=None, help="Override the preset's batch size."),
    click.option("--lr", type=float, default=None, help="Override the preset's learning rate."),
    click.option(
        "--weight-decay",
        type=float,
        default=None,
        help="Override the preset's decoupled weight decay (AdamW; on convolution and linear weights).",
    ),
    click.option(
        "--precision",
        default=None,
        type=click.Choice(["fp32", "bf16"]),
        help="Autocast precision of the forward pass (default: the preset's).",
    ),
    click.option(
        "--init",
        default=None,
        type=click.Choice(["random", "pca"]),
        help="Start from random weights or as the training split's PCA (default: pca for dense, and for cnn, "
        "lstm and conv1d on small data, with a random second start where training does not move it; random "
        "otherwise; seed replicas always random). Given, only that start is trained.",
    ),
    click.option(
        "--augment",
        default=None,
        help="Training augmentation: auto (tested on the data; the default of cnn, lstm and conv1d), none, or one "
        "by name (images: flip, flip+shift; sequences: time-shift).",
    ),
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="aelab")
@click.pass_context
def cli(ctx, debug):
    """Train, compare and use CNN and LSTM autoencoders, each beside a PCA baseline."""
    ctx.obj = {"debug": debug}


@cli.command()
@click.argument("model", type=ModelName(), required=False)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Run directory to create.")
@data_options
@latent_option
@training_options
@click.option(
    "--stream/--in-memory",
    default=None,
    help="Read image splits from disk batch by batch (default: only when they would take more than "
    "a quarter of this machine's memory).",
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(0, 64),
    help="Background processes that read streamed batches (0: read in the training process; "
    "default: 0 on <= 2 cores, else a quarter of the cores, at most 4).",
)
@click.option(
    "--contrastive",
    default=None,
    type=float,
    help="Image models: weight of a contrastive term that makes the codes of two altered views of an image "
    "agree, for features that probe better (default 0: reconstruction only).",
)
@click.option("--resume", is_flag=True, help="Continue from --out's checkpoints/last.pt.")
@click.option("--force", is_flag=True, help="Overwrite an existing run in --out.")
def train(
    model,
    init,
    augment,
    out,
    latent_dim,
    epochs,
    batch_size,
    lr,
    weight_decay,
    preset,
    precision,
    contrastive,
    workers,
    resume,
    force,
    **data_args,
):
    """Train MODEL and write a run directory (weights, metrics, plots). Without MODEL, --data's kind picks its
    default model: cnn for images, lstm for sequences and streams, dense for tables."""
    from . import distributed
    from .experiment import data_spec_for
    from .experiment import train as run_training
    from .run import check_out_dir, removed_if_left_empty

    distributed.init_from_env()
    main_process = distributed.is_main()
    cleanup = removed_if_left_empty(out) if main_process else contextlib.nullcontext()
    try:
        if model is None:
            model = _default_model_for(data_args["data"], data_args["window"], echo=_echo if main_process else None)
        with cleanup:
            if main_process:
                check_out_dir(out, force=force, resume=resume)  # fail fast; experiment.train clears it
            spec = data_spec_for(model, **data_args)  # the data options (and --stream) are DataSpec's fields
            run_training(
                model,
                out,
                spec,
                latent_dim=latent_dim,
                preset=preset,
                epochs=epochs,
                batch_size=batch_size,
                lr=lr,
                weight_decay=weight_decay,
                precision=precision,
                contrastive=contrastive,
                init=init,
                augment=augment,
                resume=resume,
                force=force,
                workers=workers,
                echo=_echo,
            )
    finally:
        distributed.shutdown()
    if main_process:
        _echo(f"run written to {out}")


def _default_model_for(data: str | None, window, echo=None) -> str:
    """The model `aelab train` trains when none is named: the registry's default for the kind of `--data`, said
    through `echo` (one process of several says nothing)."""
    from .data import data_kind
    from .kinds import TABLE
    from .models import default_model

    if data is None:
        raise AelabError("train: name a MODEL, or pass --data, whose kind picks the default model")
    kind = data_kind(data, window)
    model = default_model(kind)
    if echo is not None:
        # rows in time order read as a table are samples of their own; a stream is read only with --window
        stream_hint = "; rows in time order? --window auto reads them as a stream" if kind == TABLE else ""
        echo(f"model: {model}, the default for {kind} data (name another as aelab train MODEL{stream_hint})")
    return model


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--data", default=None, help="Evaluate on this data instead of the run's own test split.")
@click.option(
    "--labels", default=None, type=click.Path(), help="Labels per sample of --data (.npy) or stream step (.txt)."
)
@test_data_options
@click.option("--cifar10", default=None, type=click.Path(), help="Where CIFAR-10 lies; else $AELAB_CIFAR10.")
def evaluate(run_dir, data, cifar10, labels, test_data, test_labels):
    """Recompute RUN_DIR's test metrics (or on --data / --test-data) into metrics.json."""
    from .workflows import evaluate_run

    metrics = evaluate_run(
        run_dir, data=data, cifar10=cifar10, labels=labels, test_data=test_data, test_labels=test_labels, echo=_echo
    )
    _echo(" ".join(f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()))


@cli.command()
@click.option("--out", default=Path("runs/lab"), show_default=True, type=click.Path(path_type=Path))
@click.option("--preset", default="lab", show_default=True, type=PRESET_CHOICES)
@click.option("--with-seed-models", is_flag=True, help="Also train the notebook's cnn-seed and lstm-seed.")
@click.option("--sweep", "with_sweep", is_flag=True, help="Also sweep latent sizes for cnn and lstm.")
@click.option("--cifar10", default=None, type=click.Path())
@click.option("--force", is_flag=True, help="Overwrite an existing lab directory.")
@click.option("--train-size", default=None, help="Quick runs: training pool for every model (N or 'all').")
@click.option("--test-size", default=None, help="Quick runs: test samples for every model (N or 'all').")
@click.option("--epochs", type=int, default=None, help="Quick runs: epochs for every model.")
def lab(out, preset, with_seed_models, with_sweep, cifar10, force, train_size, test_size, epochs):
    """Run the whole lab: cnn on CIFAR-10, lstm and conv1d on the sequences, comparison and report."""
    from .workflows import run_lab

    started = time.perf_counter()
    run_lab(
        out,
        preset=preset,
        with_seed_models=with_seed_models,
        with_sweep=with_sweep,
        cifar10=cifar10,
        force=force,
        train_size=train_size,
        test_size=test_size,
        epochs=epochs,
        echo=_echo,
    )
    _echo(f"lab finished in {time.perf_counter() - started:.0f}s; report: {out / 'report.html'}")


@cli.command()
@click.argument("model", type=ModelName())
@click.option("--latent-dims", default="4,8,16,32,64", show_default=True, help="Comma-separated latent sizes.")
@click.option("--out", required=True, type=click.Path(path_type=Path))
@data_options
@training_options
@click.option("--force", is_flag=True)
def sweep(
    model, latent_dims, out, epochs, batch_size, lr, weight_decay, preset, init, precision, augment, force, **data_args
):
    """Train MODEL once per latent size: test MSE against latent size, beside PCA."""
    from .experiment import data_spec_for
    from .run import removed_if_left_empty
    from .workflows import parse_latent_dims, run_sweep

    with removed_if_left_empty(out):
        spec = data_spec_for(model, **data_args)
        run_sweep(
            model,
            parse_latent_dims(latent_dims),
            out,
            spec,
            force=force,
            echo=_echo,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            preset=preset,
            init=init,
            precision=precision,
            augment=augment,
        )


@cli.command()
@click.argument("lab_dir", type=click.Path(path_type=Path))
def report(lab_dir):
    """Render LAB_DIR's comparison and report.md/report.html from saved files: a lab directory, or any directory
    whose sub-directories are runs (aelab train --out LAB_DIR/NAME), to compare them beside PCA."""
    from .report import render_lab

    render_lab(lab_dir)
    _echo(f"report written to {lab_dir / 'report.html'}")


def _io_command(fn_name: str, help_text: str, extra=None, **fixed):
    """A command running `aelab.infer.<fn_name>` on RUN_DIR and INPUT; `extra` adds options, `fixed` arguments."""

    def command(run_dir, input_path, output, resize, batch_size, **kw):
        from . import infer
        from .data import file_notes

        write = getattr(infer, fn_name)
        written = write(run_dir, input_path, output, resize=resize, batch_size=batch_size, **fixed, **kw)
        for note in (*file_notes(str(input_path)), *written.notes):
            _echo(note)
        unit = written.unit.removesuffix("s") if written.count == 1 else written.unit  # 1 sample, 2 samples
        _echo(f"{written.count:,} {unit} -> {output}")

    command.__doc__ = help_text
    return in_order(
        click.argument("run_dir", type=click.Path(path_type=Path)),
        click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path)),
        click.option(
            "-o",
            "--output",
            "output",
            required=True,
            type=click.Path(path_type=Path),
            help="Output file: .npy, .csv or .parquet (an image run's reconstruct: also a new folder, one PNG per "
            "image).",
        ),
        click.option("--resize", is_flag=True, help="Resize images to the model's input size."),
        click.option("--batch-size", default=256, show_default=True, type=int),
        *([extra] if extra else []),
    )(command)


_score_options = in_order(
    click.option(
        "--percentile",
        default=99.0,
        show_default=True,
        type=float,
        help="Threshold: this percentile of the run's validation errors (stream runs: of its validation "
        "stream's per-step scores, without those over 10x the training part's 99th percentile).",
    ),
    click.option(
        "--plot",
        default=None,
        type=click.Path(path_type=Path),
        help="Draw the scores and the threshold to this .png: a stream run's stream above its per-step scores, "
        "with the flagged stretches; any other run's histogram of scores beside its validation errors.",
    ),
)

cli.command("encode")(_io_command("encode_file", "Write the latent codes of INPUT's samples to -o."))
cli.command("reconstruct")(_io_command("reconstruct_file", "Write INPUT's reconstructions (in its own scale) to -o."))
cli.command("score")(
    _io_command(
        "score_file",
        "Anomaly scores: per-sample reconstruction MSE, flagged above a validation percentile.",
        _score_options,
        echo=_echo,  # a labelled stream's anomaly metrics
    )
)


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for encoder.onnx and decoder.onnx.")
def export(run_dir, out):
    """Export RUN_DIR's encoder and decoder to ONNX."""
    from .export import export_onnx

    for path in export_onnx(run_dir, out):
        _echo(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        result = cli.main(args=argv, prog_name="aelab", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        where = f"aelab {exc.ctx.info_name}" if exc.ctx and exc.ctx.info_name != "aelab" else "aelab"
        click.echo(f"{where}: error: {exc.format_message()}", err=True)
        return 2
    except (click.Abort, KeyboardInterrupt):
        click.echo("aelab: interrupted; any checkpoint is kept (continue with --resume)", err=True)
        return 130
    except AelabError as exc:
        if debug:
            raise
        click.echo(f"aelab: error: {_in_cli_terms(exc)}", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"aelab: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except Exception as exc:  # an internal failure: one line unless --debug
        if debug:
            raise
        click.echo(f"aelab: internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback)", err=True)
        return 1


def _in_cli_terms(exc: AelabError) -> str:
    """A setting's error names the flag that sets it (`latent_dim` -> `--latent-dim`) where there is one."""
    if isinstance(exc, ConfigError) and exc.field in FLAG_FIELDS:
        return f"--{exc.field.replace('_', '-')}: {exc.problem}"
    return str(exc)


FLAG_FIELDS = {
    "data",
    "init",
    "latent_dim",
    "epochs",
    "batch_size",
    "lr",
    "precision",
    "contrastive",
    "augment",
    "val_fraction",
    "train_size",
    "test_size",
    "seed",
    "preset",
    "workers",
    "window",
    "stride",
    "length",
    "test_labels",
    "labels",
    "image_size",
    "percentile",
}


def entry_point() -> None:
    sys.exit(main())
