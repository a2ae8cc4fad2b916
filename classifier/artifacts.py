"""Model directories: `weights.npz` (plain arrays, loaded with allow_pickle=False) and `meta.json`.

`meta.json` is read first: its format version and feature settings decide whether the arrays
can be used at all, so a model made by another version is refused rather than mispredicting.
Loading never executes code from the files.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import platform
import secrets
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import fields
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
    for dist in ("classifier", "numpy", "scipy", "scikit-learn", "jieba", "rjieba", "opencc"):
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


def write_atomic(path: Path, write, binary: bool = False) -> None:
    """Write through `write(file)` to a temporary file beside `path`, then rename it into place:
    readers see the old file or the whole new one, never half of it."""
    with atomic_file(path, binary) as f:
        write(f)


@contextmanager
def atomic_file(path: Path, binary: bool = False, compress: bool = False):
    """A file object writing to a temporary file beside `path`, renamed into place when the
    block ends normally and removed when it raises (an interrupted run leaves nothing half
    written). `compress` writes gzip.

    The temporary name is chosen before the file exists, so an interrupt at any point after that
    (Ctrl-C, or SIGTERM through the command's handler) finds the file to remove; mkstemp hands the
    name back only after creating the file, and an interrupt in between left it behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        with open(tmp, "xb") as raw:
            sink = gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) if compress else raw
            try:
                if binary:
                    yield sink
                else:
                    # Lone surrogates (JSON escapes, file names) are written as they are, not refused.
                    text = io.TextIOWrapper(sink, encoding="utf-8", errors="surrogatepass", newline="")
                    yield text
                    text.flush()
                    text.detach()
            finally:
                if compress:
                    sink.close()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_meta(directory: str | Path) -> dict:
    directory = Path(directory)
    path = directory / META
    if not directory.exists():
        raise ModelError(f"{directory}: no such model directory (train one with `classifier train`, or pass --model)")
    if not directory.is_dir():
        raise ModelError(f"{directory}: not a model directory (one holding {META} and {WEIGHTS}); pass --model DIR")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: no model here (train one with `classifier train`, or pass --model)") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable model metadata ({exc}); retrain or reinstall the model") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise ModelError(f"{path}: not a classifier model (format {found!r}, expected {FORMAT!r}); "
                         "pass --model a directory written by `classifier train`")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{path}: model format {meta.get('format_version')} is not supported "
                         f"(this version reads {FORMAT_VERSION}); retrain with `classifier train`")
    if meta.get("labels") != list(LABELS):
        raise ModelError(f"{path}: labels {meta.get('labels')} are not {list(LABELS)}; retrain with `classifier train`")
    return meta


def load(directory: str | Path | None = None) -> Labeler:
    directory = Path(directory) if directory else default_model_dir()
    meta = read_meta(directory)
    settings = _settings(meta, directory / META)
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
    decoding = meta.get("decoding", {})
    weight = decoding.get("transition_weight", 1.0) if isinstance(decoding, dict) else None
    if not _is_number(weight):
        raise ModelError(f"{directory / META}: bad decoding.transition_weight {weight!r}; retrain the model")
    return Labeler(model, context, settings, arrays["log_start"], arrays["log_trans"], float(weight), meta)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def _settings(meta: dict, path: Path) -> FeatureSettings:
    """Feature settings from meta.json, each of the type its default has: a wrong one would
    surface only later, as a crash in the middle of a batch."""
    try:
        settings = FeatureSettings.from_dict(meta["features"])
    except (KeyError, TypeError) as exc:
        raise ModelError(f"{path}: bad feature settings ({exc}); retrain the model") from None
    default = FeatureSettings()
    for field in fields(FeatureSettings):
        value, want = getattr(settings, field.name), getattr(default, field.name)
        if isinstance(want, float):
            ok = _is_number(value)
        elif isinstance(want, tuple):
            ok = all(type(item) is int for item in value)
        else:
            ok = type(value) is type(want)
        if not ok:
            raise ModelError(f"{path}: bad feature setting {field.name} = {value!r}; retrain the model")
    return settings


def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [name for name in ARRAYS if name not in data.files]
            if missing:
                raise ModelError(f"{path}: missing arrays {missing}; retrain the model")
            arrays = {name: data[name] for name in ARRAYS}
    except FileNotFoundError:
        raise ModelError(f"{path}: model weights are missing; retrain or reinstall the model") from None
    except ModelError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc):  # numpy refused an object array without unpickling it
            raise ModelError(f"{path}: holds pickled Python objects, which are never loaded (they could run "
                             "code); use a model written by `classifier train`") from None
        raise ModelError(f"{path}: damaged model weights ({exc}); retrain or reinstall the model") from None
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ModelError(f"{path}: damaged model weights ({exc}); retrain or reinstall the model") from None
    for name, array in arrays.items():
        if array.dtype.kind not in "fiu" or not np.isfinite(array).all():
            raise ModelError(f"{path}: array {name} does not hold finite numbers; retrain the model")
    return arrays
