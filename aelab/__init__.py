"""aelab: feature extraction and dimensionality reduction with autoencoders, always beside PCA."""

from .errors import AelabError
from .estimator import AutoencoderOutlierDetector, AutoencoderTransformer
from .models import create_model, list_models
from .run import load_run

__all__ = [
    "AelabError",
    "AutoencoderOutlierDetector",
    "AutoencoderTransformer",
    "create_model",
    "list_models",
    "load_run",
]
__version__ = "0.1.0"
