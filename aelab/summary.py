"""The layer table `aelab train` prints: layer, output shape, parameters (like Keras' model.summary)."""

from __future__ import annotations

import torch


def layer_table(model) -> list[tuple[str, str, int]]:
    """(layer name and type, output shape for one sample, parameters) for every leaf module, in call order.

    A layer that sees one sample as n rows (per-feature models run each feature through shared layers) shows
    its shape as `n x (shape)`."""
    rows, hooks = [], []

    def hook(name):
        def record(module, _inputs, output):
            out = output[0] if isinstance(output, tuple) else output
            params = sum(p.numel() for p in module.parameters(recurse=False))
            shape = str(tuple(out.shape[1:]))
            if out.shape[0] > 1:  # one sample split into rows (e.g. one per feature) that share this layer
                shape = f"{out.shape[0]} x {shape}"
            rows.append((f"{name} ({type(module).__name__})", shape, params))

        return record

    for name, module in model.named_modules():
        if name and not any(True for _ in module.children()):
            hooks.append(module.register_forward_hook(hook(name)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            device = next(model.parameters()).device
            model(torch.zeros(1, *model.input_shape, device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return rows


def format_table(model) -> str:
    rows = layer_table(model)
    header = ("Layer (type)", "Output shape", "Params")
    width = [max(len(header[i]), *(len(str(r[i])) for r in rows)) for i in range(2)]
    line = "-" * (width[0] + width[1] + 16)
    out = [f"Model: {model.name}", line, f"{header[0]:<{width[0]}}  {header[1]:<{width[1]}}  {header[2]:>10}", line]
    out += [f"{a:<{width[0]}}  {b:<{width[1]}}  {c:>10,}" for a, b, c in rows]
    total = sum(p.numel() for p in model.parameters())
    out += [line, f"Total params: {total:,}"]
    return "\n".join(out)
