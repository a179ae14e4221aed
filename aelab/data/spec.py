"""`DataSpec`: what `--data` and its options mean, carried from the CLI to `load_dataset`, into config.json
and back (`aelab evaluate` rebuilds a run's splits from it)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, replace

from ..errors import ConfigError
from .streams import parse_window

DEFAULT_SEED = 42
MAX_SEED = 2**32 - 1  # NumPy's and scikit-learn's seeds are unsigned 32-bit numbers
DEFAULT_VAL_FRACTION = 0.2


def check_seed(seed) -> int:
    """`seed` as an int (NumPy's integers too, which torch's generators refuse), or an error for a seed that the
    data split, PCA and NumPy would refuse from deep inside (an internal error)."""
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise ConfigError("seed", f"must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
    return int(seed)


def parse_size(value, field: str) -> int | None:
    """'all' or None -> None; a positive integer (or its text) -> int; anything else names the field."""
    if value is None or value == "all":
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ConfigError(field, f"expected a positive integer or 'all', got {value!r}") from None
    if n <= 0:
        raise ConfigError(field, f"must be positive, got {n}")
    return n


TEST_LABELS_ALONE = "label the samples of --test-data; pass --test-data too"


@dataclass(frozen=True)
class DataSpec:
    """A data set and its protocol. `data` is a name (cifar10, digits, synthetic) or a path.

    `train_size`/`test_size` keep what was asked (None: the protocol's default, 'all', or N) so that a run records
    the request, not its outcome; `cifar10` and `stream` say where and how to read on this machine and are not
    part of the run's record.
    """

    data: str
    labels: str | None = None
    train_size: int | str | None = None
    test_size: int | str | None = None
    val_fraction: float = DEFAULT_VAL_FRACTION
    seed: int = DEFAULT_SEED
    test_data: str | None = None  # a test set of its own (UCR/UEA _TEST files); None: carved from `data`
    test_labels: str | None = None  # labels (.npy) for an .npy test_data
    image_size: str | None = None  # "HxW": image files scaled to cover it and centre-cropped
    window: int | str | None = None  # a stream cut into windows of this many steps ('auto': from the data)
    stride: int | None = None  # steps between window starts (None: the default, an eighth of the window)
    window_rule: str | None = None  # how an 'auto' window was found, for the record
    length: int | None = None  # ragged sequences cut to this many steps (None: padded to the longest)
    cifar10: str | None = None
    stream: bool | None = None

    def __post_init__(self):
        object.__setattr__(self, "seed", check_seed(self.seed))  # frozen
        if not isinstance(self.val_fraction, (int, float)) or not 0 < self.val_fraction < 1:
            raise ConfigError("val_fraction", f"must lie strictly between 0 and 1, got {self.val_fraction}")
        parse_size(self.train_size, "train_size")
        parse_size(self.test_size, "test_size")
        object.__setattr__(self, "window", parse_window(self.window))  # frozen; "24" from the command line -> 24
        for name, least in (("stride", 1), ("length", 2)):  # a sequence model needs 2 steps
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < least):
                raise ConfigError(name, f"must be a whole number of at least {least}, got {value!r}")
        if self.stride is not None and self.window is None:
            raise ConfigError("stride", "applies to streams; pass --window too")
        if self.test_labels is not None and self.test_data is None:
            raise ConfigError("test_labels", TEST_LABELS_ALONE)

    @property
    def train_n(self) -> int | None:
        return parse_size(self.train_size, "train_size")

    @property
    def test_n(self) -> int | None:
        return parse_size(self.test_size, "test_size")

    def to_dict(self) -> dict:
        """The record in config.json (the keys runs have always had)."""
        record = dict(
            data=self.data,
            train_size=self.train_size,
            test_size=self.test_size,
            val_fraction=self.val_fraction,
            seed=self.seed,
        )
        for key in ("labels", "test_data", "test_labels", "image_size", "window", "stride", "window_rule", "length"):
            if getattr(self, key):
                record[key] = getattr(self, key)
        return record

    @classmethod
    def from_dict(cls, record: dict, **local) -> DataSpec:
        """A spec from a run's record; `local` adds this machine's `cifar10`/`stream`."""
        keys = ("data", "labels", "train_size", "test_size", "val_fraction", "seed", "test_data", "test_labels",
                "image_size", "window", "stride", "window_rule", "length")  # fmt: skip
        return cls(**{k: record[k] for k in keys if k in record}, **local)

    def replace(self, **changes) -> DataSpec:
        return replace(self, **changes)
