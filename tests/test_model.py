"""Train, save, load, predict on a small fixture; and models that must be refused."""
import json
import shutil

import numpy as np
import pytest

from classifier import artifacts
from classifier.corpus import load_labeled
from classifier.errors import ModelError
from classifier.features import FeatureSettings
from classifier.model import LinearModel
from classifier.training import TrainingSet, cross_validate, fit


def test_round_trip_predicts_the_same(corpus_dir, tmp_path):
    settings = FeatureSettings(n_features=2**12)
    docs = load_labeled(corpus_dir)
    data = TrainingSet.build(docs, settings)
    labeler = fit(data, range(len(data.docs)), settings)
    artifacts.save(labeler, tmp_path, {"training": {"documents": len(docs)}})
    loaded = artifacts.load(tmp_path)
    text = docs[0].text
    assert loaded.label(text) == labeler.label(text)
    assert np.allclose(loaded.model.coef_, labeler.model.coef_)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["labels"] == ["body", "chrome", "spam"] and meta["features"]["n_features"] == 2**12
    assert {"numpy", "scikit-learn", "jieba"} <= set(meta["versions"])


def test_probabilities_sum_to_one_and_fit_returns_self(corpus_dir):
    settings = FeatureSettings(n_features=2**12)
    data = TrainingSet.build(load_labeled(corpus_dir), settings)
    rows = data.y >= 0
    model = LinearModel()
    assert model.fit(data.X[rows], [["body", "chrome", "spam"][v] for v in data.y[rows]]) is model
    assert np.allclose(model.predict_proba(data.X).sum(axis=1), 1)
    assert model.classes_ == ["body", "chrome", "spam"]


def test_tiny_model_separates_its_own_pages(corpus_dir, tiny_model):
    labeler = artifacts.load(tiny_model)
    doc = load_labeled(corpus_dir)[0]
    from classifier.evaluation import score

    report = score([doc], [labeler.label(doc.text)])
    total = sum(report.confusion.values())
    agree = sum(n for (gold, predicted), n in report.confusion.items() if gold == predicted)
    assert total >= 10 and agree / total > 0.9


def test_cross_validation_is_grouped_by_site(corpus_dir):
    settings = FeatureSettings(n_features=2**12)
    data = TrainingSet.build(load_labeled(corpus_dir), settings)
    report = cross_validate(data, settings, folds=2)
    assert report.documents == 20
    assert report.per_class()["body"][2] > 0.8


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="meta.json: no model here"):
        artifacts.load(tmp_path)


def test_unknown_format_version_is_refused(tiny_model, tmp_path):
    shutil.copytree(tiny_model, tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    meta["format_version"] = 99
    (tmp_path / "m" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="model format 99 is not supported"):
        artifacts.load(tmp_path / "m")


def test_other_feature_settings_are_refused(tiny_model, tmp_path):
    shutil.copytree(tiny_model, tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    meta["features"]["n_features"] = 2**10
    (tmp_path / "m" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="shapes do not match"):
        artifacts.load(tmp_path / "m")


def test_truncated_weights_are_refused(tiny_model, tmp_path):
    shutil.copytree(tiny_model, tmp_path / "m")
    weights = tmp_path / "m" / "weights.npz"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ModelError, match="damaged model weights"):
        artifacts.load(tmp_path / "m")


def test_pickled_arrays_are_not_loaded(tiny_model, tmp_path):
    shutil.copytree(tiny_model, tmp_path / "m")
    with np.load(tiny_model / "weights.npz") as data:
        arrays = {k: data[k] for k in data.files}
    arrays["coef"] = np.array([object()], dtype=object)
    np.savez(tmp_path / "m" / "weights.npz", **arrays)
    with pytest.raises(ModelError, match="holds pickled Python objects, which are never loaded"):
        artifacts.load(tmp_path / "m")
