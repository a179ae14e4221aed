"""Autoencoders, registered by name. Importing this package registers every family."""

from ..kinds import IMAGE, SEQUENCE
from . import cnn, conv1d, dense, lstm  # noqa: F401  (imported to register each family's models)
from .base import Autoencoder, config_dict, shape_config
from .registry import create_model, default_model, list_models, model_class, models_in_order

__all__ = [
    "IMAGE",
    "SEQUENCE",
    "Autoencoder",
    "config_dict",
    "create_model",
    "default_model",
    "list_models",
    "model_class",
    "models_in_order",
    "shape_config",
]
