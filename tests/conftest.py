"""Small factories: pages of invented sites built from short phrases, and a tiny model trained
once per test session on them (no committed model files)."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

NAV = ["首页 | 范文大全 | 讲话稿 | 工作总结 | 心得体会", "网站首页 > 公文写作 > 领导讲话", "首页 » 文秘资料 » 致辞"]
META = ["发布时间：2021-0{m}-1{d} 来源：本站原创 浏览：{n}次", "时间：2022-1{m}-0{d} 10:2{d} 作者：佚名 点击：{n}"]
FOOT = ["上一篇：关于做好春季防火工作的通知", "下一篇：在全市教育工作会议上的发言", "相关文章",
        "- 2021年度工作总结范文...2021-08-2{d}", "版权所有 © 2016-2023 示例文秘网 京ICP备1200{n}号-1",
        "免责声明：本站资料来自网友上传，如有侵权请联系删除。"]
SPAM = ["国产精品_久久久久_一区二区三区_无码高清_在线观看免费视频_日韩精品_亚洲天堂",
        "澳门娱乐城,真人百家乐,北京赛车开奖,时时彩开户,体育投注网,注册送彩金"]
SUBJECTS = ["我们", "全县各级各部门", "广大干部职工", "各乡镇", "学校全体师生", "公司上下"]
VERBS = ["要进一步提高认识", "必须切实加强领导", "要认真抓好落实", "要不断完善工作机制", "要坚持问题导向"]
ENDS = ["，确保各项任务圆满完成。", "，推动工作再上新台阶。", "，努力开创工作新局面。", "，为全年目标打下坚实基础。"]


def body_lines(rng: random.Random, n: int) -> list[str]:
    lines = ["在全县工作会议上的讲话", "同志们："]
    for k in range(n):
        parts = [rng.choice(SUBJECTS) + rng.choice(VERBS) + rng.choice(ENDS) for _ in range(rng.randint(1, 4))]
        if k == 2:  # a truncation notice pasted inside a paragraph
            notice = f"……(示例文秘网http://www.example.cn省略{rng.randint(300, 999)}字,正式会员可完整阅读)……"
            parts.insert(1, f"⟦chrome:{notice}⟧")
        lines.append("　　" + "".join(parts))
        if k == 1:
            lines.append("一、统一思想，提高认识")
    lines.append("谢谢大家！")
    return lines


def page(rng: random.Random, spam: bool = False) -> list[tuple[str, str]]:
    rows = []
    if spam:
        rows.append(("spam", rng.choice(SPAM)))
    fill = {"m": rng.randint(1, 9), "d": rng.randint(1, 9), "n": rng.randint(10, 999)}
    rows += [("chrome", rng.choice(NAV)), ("chrome", rng.choice(META).format(**fill)), ("", "")]
    rows += [("mixed" if "⟦" in line else "body", line) for line in body_lines(rng, rng.randint(2, 6))]
    rows += [("", "")] + [("chrome", line.format(**fill)) for line in rng.sample(FOOT, 4)]
    return rows


def write_tsv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{label}\t{text}\n" if label else "\n" for label, text in rows), encoding="utf-8")
    return path


def make_corpus(root: Path, sites: int = 4, per_site: int = 5, seed: int = 7) -> Path:
    rng = random.Random(seed)
    for s in range(sites):
        for d in range(per_site):
            write_tsv(root / f"site{s}" / f"doc{d}.tsv", page(rng, spam=(d % 2 == 0)))
    return root


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("labeled"))


@pytest.fixture(scope="session")
def tiny_model(corpus_dir, tmp_path_factory) -> Path:
    from classifier import artifacts
    from classifier.corpus import load_labeled
    from classifier.features import FeatureSettings
    from classifier.training import TrainingSet, fit, training_meta

    settings = FeatureSettings(n_features=2**12)
    docs = load_labeled(corpus_dir)
    data = TrainingSet.build(docs, settings)
    labeler = fit(data, range(len(data.docs)), settings)
    out = tmp_path_factory.mktemp("model")
    artifacts.save(labeler, out, training_meta(docs, str(corpus_dir), None, 0))
    return out


@pytest.fixture()
def sample_page() -> str:
    from classifier.corpus import parse_mixed

    rng = random.Random(3)
    return "\n".join(parse_mixed(text)[0] if label == "mixed" else text for label, text in page(rng, spam=True))


@pytest.fixture(scope="session")
def tiny_model_labeler(tiny_model):
    from classifier import artifacts

    return artifacts.load(tiny_model)
