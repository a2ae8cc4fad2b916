"""A model's `meta.json` in words: what it labels, what it was trained on, how well it did."""
from __future__ import annotations


def _n(value) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


def _score(value) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "?"


def describe(meta: dict, directory: str) -> str:
    out = [f"model        {directory}"]
    out.append(f"labels       {', '.join(meta.get('labels') or [])}")
    out.append(f"created      {meta.get('created', 'unknown')}")
    training = meta.get("training") or {}
    if training:
        out.append(f"trained on   {_n(training.get('documents', '?'))} documents from {_n(training.get('sites', '?'))} sites, "
                   f"{_n(training.get('lines', '?'))} labeled lines (from {training.get('source', '?')})")
        out.append(f"data sha256  {training.get('sha256', '?')}")
    else:
        out.append("trained on   (not recorded)")
    model = meta.get("model") or {}
    features = meta.get("features") or {}
    out.append(f"line model   {model.get('type', '?')}, alpha {model.get('alpha', '?')}, {model.get('epochs', '?')} epochs; "
               f"page pass alpha {model.get('context_alpha', '?')}")
    out.append(f"features     version {features.get('version', '?')}: {_n(features.get('n_features', 0))} hashed columns "
               f"(character 1-{features.get('ngram_max', '?')}-grams of a {features.get('head_chars', '?')}+"
               f"{features.get('tail_chars', '?')}-character head and tail, words of the first "
               f"{features.get('word_chars', '?')}), shape, position and neighbours {features.get('neighbors', '?')}")
    decoding = meta.get("decoding") or {}
    out.append(f"decoding     {decoding.get('type', '?')} over states {', '.join(decoding.get('states') or [])}, "
               f"transition weight {decoding.get('transition_weight', '?')}")
    cv = meta.get("cv")
    if cv:
        per_class = cv.get("per_class") or {}
        classes = ", ".join(f"{name} F1 {_score(s.get('f1'))} (P {_score(s.get('precision'))}, R {_score(s.get('recall'))}, "
                            f"{_n(s.get('lines', '?'))} lines)" for name, s in per_class.items())
        chars = cv.get("body_chars") or {}
        out.append(f"cross-val    {cv.get('folds', '?')} folds grouped by {cv.get('grouped_by', '?')}: {classes}")
        out.append(f"             body characters P {_score(chars.get('precision'))}, R {_score(chars.get('recall'))}, "
                   f"F1 {_score(chars.get('f1'))}; junk removed {_score(chars.get('junk_removed'))}")
        for name, s in (cv.get("patterns") or {}).items():
            out.append(f"  pattern    {name}: {_n(s.get('pages', '?'))} pages, character F1 {_score(s.get('char_f1'))}, "
                       f"junk removed {_score(s.get('junk_removed'))}")
        for s in cv.get("weakest_sites") or []:
            out.append(f"  weak site  {s.get('site', '?')}: {_n(s.get('pages', '?'))} pages, character F1 "
                       f"{_score(s.get('char_f1'))}, junk removed {_score(s.get('junk_removed'))}")
    else:
        out.append("cross-val    not run (trained with --folds 0)")
    versions = meta.get("versions") or {}
    out.append("versions     " + ", ".join(f"{name} {version}" for name, version in versions.items()))
    return "\n".join(out)
