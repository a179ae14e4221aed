"""User-facing errors: one line, naming the file or option at fault."""


class AelabError(ValueError):
    """Bad usage or bad input. The CLI prints it as one line and exits with code 2. A ValueError, as Python and
    scikit-learn expect of a bad argument value."""


class TrainingDiverged(AelabError):
    """The loss became NaN or infinite; no weights from that point are saved."""


class ConfigError(AelabError):
    """A setting out of range, named in the library's terms (`lr`, `latent_dim`); the CLI names the flag instead."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem
