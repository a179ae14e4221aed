"""User-facing errors: one line, naming the file or option at fault."""


class AelabError(Exception):
    """Bad usage or bad input. The CLI prints it as one line and exits with code 2."""


class TrainingDiverged(AelabError):
    """The loss became NaN or infinite; no weights from that point are saved."""
