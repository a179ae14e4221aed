"""Models by name: the one list of models. The CLI's choices, the report, the presets and the tests read it.

Each model class carries its own metadata (as timm keeps it beside the model): `input_kind`, a one-line
`description` (the report's architecture column), optional `notes` (a paragraph in the report), `default`
(the model a kind of input gets when none is named) and `seed_replica` (a faithful copy of the notebook's model,
never a default).
"""

from __future__ import annotations

import dataclasses

from ..errors import AelabError
from ..kinds import KINDS
from .base import sample_shape

_MODELS: dict[str, type] = {}


def register(name: str):
    def add(cls):
        for attribute in ("Config", "input_kind", "description"):
            if not hasattr(cls, attribute):
                raise TypeError(f"model {name!r} must define {attribute}")
        if cls.input_kind not in KINDS:
            raise TypeError(f"model {name!r}: input_kind {cls.input_kind!r} is not one of {KINDS}")
        cls.name = name
        _MODELS[name] = cls
        return cls

    return add


def list_models() -> list[str]:
    return sorted(_MODELS)


def models_in_order() -> list[str]:
    """Names grouped by input kind, each kind's default first and seed replicas last (the report's order)."""
    order = list(_MODELS)
    return sorted(
        order,
        key=lambda n: (
            KINDS.index(_MODELS[n].input_kind),
            not _MODELS[n].default,
            _MODELS[n].seed_replica,
            order.index(n),
        ),
    )


def default_model(kind: str) -> str:
    """The model a kind of input trains when none is named."""
    for name, cls in _MODELS.items():
        if cls.input_kind == kind and cls.default:
            return name
    raise AelabError(f"no default model for {kind} data; name one of {', '.join(list_models())}")


def model_class(name: str) -> type:
    try:
        return _MODELS[name]
    except KeyError:
        raise AelabError(f"unknown model {name!r}; choose from {', '.join(list_models())}") from None


def create_model(name: str, **config):
    """Build a registered autoencoder from its config fields (unknown fields are an error). Without `latent_dim`,
    its size is the model's default for the sample shape (`default_latent`), as `aelab train` sizes it: the config's
    fixed default (8 for tables, 20 for sequences) exceeded a narrow table's or a short sequence's values."""
    cls = model_class(name)
    fields = {f.name for f in dataclasses.fields(cls.Config)}
    unknown = sorted(set(config) - fields)
    if unknown:
        raise AelabError(f"model {name!r} has no setting {', '.join(unknown)}; it takes {', '.join(sorted(fields))}")
    try:
        if "latent_dim" not in config:  # the shape it is sized to read from a config that has checked its fields
            checked = dataclasses.asdict(cls.Config(**config, latent_dim=1))
            config = {**config, "latent_dim": cls.default_latent(sample_shape(cls, checked))}
        return cls(cls.Config(**config))
    except TypeError as exc:
        raise AelabError(f"model {name!r}: {exc}") from None
