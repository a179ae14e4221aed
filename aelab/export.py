"""ONNX export of a run's encoder and decoder (batch size left dynamic)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from .errors import AelabError
from .io import atomic_path
from .run import load_run


class _Scaled(nn.Module):
    """A run's model with its standardisation (None for images, which stay in [0, 1]) inside the graph, so that the
    exported files take and give data in its own units, as `aelab encode` and `reconstruct` do: an encoder.onnx of
    the bare model coded raw sensor values as if they were z-scores, without a word."""

    def __init__(self, model, normalization):
        super().__init__()
        self.model = model
        identity = normalization is None
        self.register_buffer("mean", torch.zeros(1) if identity else torch.from_numpy(normalization.mean))
        self.register_buffer("std", torch.ones(1) if identity else torch.from_numpy(normalization.std))


class _Encoder(_Scaled):
    def forward(self, x):  # (B, *input_shape) in the data's units -> (B, latent_dim)
        return self.model.encode((x - self.mean) / self.std)  # features last: (B, T, F) or (B, F)


class _Decoder(_Scaled):
    def forward(self, z):  # (B, latent_dim) -> (B, *input_shape) in the data's units, clamped as in eval mode
        return self.model.bounded(self.model.decode(z)) * self.std + self.mean


def export_onnx(run_dir, out) -> list[Path]:
    try:
        import onnx  # noqa: F401  (only checks that the onnx extra is installed)
    except ImportError:
        raise AelabError("export needs the onnx extras: pip install 'aelab[onnx]'") from None
    run = load_run(run_dir)
    model = run.model.eval()
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AelabError(f"--out {out}: not writable ({exc.strerror or exc})") from None
    jobs = (
        (_Encoder(model, run.normalization), torch.zeros(2, *model.input_shape), "x", "z", out / "encoder.onnx"),
        (_Decoder(model, run.normalization), torch.zeros(2, model.latent_dim), "z", "x_hat", out / "decoder.onnx"),
    )
    written = []
    for module, example, name_in, name_out, path in jobs:
        with atomic_path(path) as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                (example,),
                str(tmp),
                input_names=[name_in],
                output_names=[name_out],
                dynamic_axes={name_in: {0: "batch"}, name_out: {0: "batch"}},
                dynamo=False,
            )
        written.append(path)
    return written
