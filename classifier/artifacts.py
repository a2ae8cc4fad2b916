"""Model directories: `weights.npz` (plain arrays, loaded with allow_pickle=False) and `meta.json`.

`meta.json` is read first: its format version and feature settings decide whether the arrays
can be used at all, so a model made by another version is refused rather than mispredicting.
Loading never executes code from the files.
"""
from __future__ import annotations

import json
import os
import platform
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .context import CONTEXT_NAMES
from .corpus import LABELS
from .decode import STATES
from .errors import ModelError
from .features import FEATURE_VERSION, FeatureSettings, dense_names
from .filtering import Labeler
from .model import LinearModel

FORMAT = "classifier-model"
FORMAT_VERSION = 1
WEIGHTS, META = "weights.npz", "meta.json"
ARRAYS = ("coef", "intercept", "context_coef", "context_intercept", "log_start", "log_trans")


def default_model_dir() -> Path:
    """The shipped model: `models/default` of a source checkout, else the installed copy."""
    env = os.environ.get("CLASSIFIER_MODEL")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parent.parent / "models" / "default"
    if (checkout / META).exists():
        return checkout
    from importlib import resources

    return Path(str(resources.files("classifier.default_model")))


def library_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for dist in ("classifier", "numpy", "scipy", "scikit-learn", "jieba", "opencc"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "unknown"
    return versions


def save(labeler: Labeler, directory: str | Path, meta: dict) -> Path:
    """Write the model directory; files are written to temporary names, then renamed."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model = labeler.model
    full_meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "labels": list(LABELS),
        "features": labeler.settings.to_dict(),
        "model": {"type": "logistic regression (SGD, log loss, averaged)", "alpha": model.alpha,
                  "epochs": model.epochs, "context_alpha": labeler.context.alpha},
        "context": {"features": CONTEXT_NAMES},
        "decoding": {"type": "viterbi", "states": list(STATES), "transition_weight": labeler.transition_weight},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": library_versions(),
        **meta,
    }
    arrays = {"coef": model.coef_, "intercept": model.intercept_,
              "context_coef": labeler.context.coef_, "context_intercept": labeler.context.intercept_,
              "log_start": labeler.log_start, "log_trans": labeler.log_trans}
    # Stored uncompressed: float weights barely compress (2.5 MB vs 3.2 MB), and inflating them
    # cost every start-up some 25 ms.
    write_atomic(directory / WEIGHTS, lambda f: np.savez(f, **arrays), binary=True)
    write_atomic(directory / META, lambda f: f.write(json.dumps(full_meta, ensure_ascii=False, indent=2) + "\n"))
    return directory


_UMASK = os.umask(0)
os.umask(_UMASK)


def write_atomic(path: Path, write, binary: bool = False) -> None:
    """Write through `write(file)` to a temporary file beside `path`, then rename it into place:
    readers see the old file or the whole new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8", newline=None if binary else "") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_meta(directory: str | Path) -> dict:
    path = Path(directory) / META
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: no model here (train one with `classifier train`, or pass --model)") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable model metadata ({exc}); retrain or reinstall the model") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelError(f"{path}: not a classifier model directory")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{path}: model format {meta.get('format_version')} is not supported "
                         f"(this version reads {FORMAT_VERSION}); retrain with `classifier train`")
    return meta


def load(directory: str | Path | None = None) -> Labeler:
    directory = Path(directory) if directory else default_model_dir()
    meta = read_meta(directory)
    try:
        settings = FeatureSettings.from_dict(meta["features"])
    except (KeyError, TypeError) as exc:
        raise ModelError(f"{directory / META}: bad feature settings ({exc}); retrain the model") from None
    if settings.version != FEATURE_VERSION:
        raise ModelError(f"{directory / META}: trained with feature version {settings.version}, this version "
                         f"computes version {FEATURE_VERSION}; retrain with `classifier train`")
    arrays = _load_arrays(directory / WEIGHTS)
    width = settings.n_features + len(dense_names(settings))
    expected = {"coef": (len(LABELS), width), "intercept": (len(LABELS),),
                "context_coef": (len(LABELS), len(CONTEXT_NAMES)), "context_intercept": (len(LABELS),),
                "log_start": (len(STATES),), "log_trans": (len(STATES), len(STATES))}
    if any(arrays[name].shape != shape for name, shape in expected.items()):
        raise ModelError(f"{directory / WEIGHTS}: array shapes do not match the feature settings; retrain the model")
    model = LinearModel.from_arrays(arrays["coef"], arrays["intercept"])
    context = LinearModel.from_arrays(arrays["context_coef"], arrays["context_intercept"])
    weight = float(meta.get("decoding", {}).get("transition_weight", 1.0))
    return Labeler(model, context, settings, arrays["log_start"], arrays["log_trans"], weight, meta)


def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [name for name in ARRAYS if name not in data.files]
            if missing:
                raise ModelError(f"{path}: missing arrays {missing}; retrain the model")
            return {name: data[name] for name in ARRAYS}
    except FileNotFoundError:
        raise ModelError(f"{path}: model weights are missing; retrain or reinstall the model") from None
    except ModelError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelError(f"{path}: damaged model weights ({exc}); retrain or reinstall the model") from None
