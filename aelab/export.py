"""ONNX export of a run's encoder and decoder (batch size left dynamic)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from .errors import AelabError
from .io import atomic_path
from .run import load_run


class _Encoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):  # (B, *input_shape) -> (B, latent_dim)
        return self.model.encode(x)


class _Decoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, z):  # (B, latent_dim) -> (B, *input_shape), clamped like the model in eval mode
        return self.model.bounded(self.model.decode(z))


def export_onnx(run_dir, out) -> list[Path]:
    try:
        import onnx  # noqa: F401  (only checks that the onnx extra is installed)
    except ImportError:
        raise AelabError("export needs the onnx extras: pip install 'aelab[onnx]'") from None
    model = load_run(run_dir).model.eval()
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AelabError(f"--out {out}: not writable ({exc.strerror or exc})") from None
    jobs = (
        (_Encoder(model), torch.zeros(2, *model.input_shape), "x", "z", out / "encoder.onnx"),
        (_Decoder(model), torch.zeros(2, model.latent_dim), "z", "x_hat", out / "decoder.onnx"),
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
