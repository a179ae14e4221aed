"""Models by name: one `create_model` for the CLI, the run loader, the estimator and the tests."""

from __future__ import annotations

import dataclasses

from ..errors import AelabError

_MODELS: dict[str, type] = {}


def register(name: str):
    def add(cls):
        cls.name = name
        _MODELS[name] = cls
        return cls

    return add


def list_models() -> list[str]:
    return sorted(_MODELS)


def model_class(name: str) -> type:
    try:
        return _MODELS[name]
    except KeyError:
        raise AelabError(f"unknown model {name!r}; choose from {', '.join(list_models())}") from None


def create_model(name: str, **config):
    """Build a registered autoencoder from its config fields (unknown fields are an error)."""
    cls = model_class(name)
    fields = {f.name for f in dataclasses.fields(cls.Config)}
    unknown = sorted(set(config) - fields)
    if unknown:
        raise AelabError(f"model {name!r} has no setting {', '.join(unknown)}; it takes {', '.join(sorted(fields))}")
    try:
        return cls(cls.Config(**config))
    except TypeError as exc:
        raise AelabError(f"model {name!r}: {exc}") from None
