"""Chinese word segmentation for features: jieba, its dictionary loaded once, on first use."""
from __future__ import annotations

import logging
from functools import lru_cache


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@lru_cache(maxsize=200_000)
def cut(text: str) -> list[str]:
    """Words of a short text (callers pass bounded windows); without HMM, as it is 2x faster."""
    return _jieba().lcut(text, HMM=False)
