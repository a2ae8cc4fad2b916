"""Label each line of scraped Chinese document pages as body, chrome or spam; keep the body.

`from classifier import Classifier` gives the Python interface (see `classifier.api`); it is
imported on first use, so `import classifier` stays light.
"""

__version__ = "0.1.0"
__all__ = ["Classifier", "Segment", "__version__"]


def __getattr__(name: str):
    if name in ("Classifier", "Segment"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'classifier' has no attribute {name!r}")
