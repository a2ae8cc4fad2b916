"""The library's errors: one small hierarchy, so callers catch what they can handle."""


class ClassifierError(Exception):
    """Base of every error the library raises on purpose."""


class InputError(ClassifierError):
    """An input file or stream could not be read or decoded."""


class LabeledFormatError(ClassifierError):
    """One or more malformed rows in labeled or gold files; `problems` holds each `path:line: ...`."""

    def __init__(self, problems):
        self.problems = list(problems)
        shown = "\n".join(self.problems[:50])
        more = len(self.problems) - 50
        super().__init__(shown + (f"\n... and {more} more" if more > 0 else ""))


class ModelError(ClassifierError):
    """A model directory is missing, damaged, or was made with settings this version cannot use."""


class WorkerError(ClassifierError):
    """Worker processes of a `--jobs` run could not be kept running."""
