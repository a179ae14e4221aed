"""Autoencoders, registered by name. Importing this package registers every family."""

from . import cnn, conv1d, lstm  # noqa: F401  (registration side effect)
from .base import IMAGE, SEQUENCE, Autoencoder, config_dict, shape_config
from .registry import create_model, list_models, model_class

__all__ = ["Autoencoder", "IMAGE", "SEQUENCE", "config_dict", "create_model", "list_models", "model_class", "shape_config"]
