"""Segmenting a document into units: the lines with text, split where chrome attaches inside them.

Most lines are one unit. A line is cut into segments only at the places where site chrome or
spam is pasted into text on real pages:

- a truncation or paywall notice in brackets, usually between ellipses (`……(…省略979字…)……`);
- a bracketed ad naming a site or URL (`[找材料 到XX网-www.xx.com-…]`);
- a `标题：… |` prefix, and a bracketed keyword glued to the front (`[keyword]title`);
- `上一篇：` / `下一篇：` / `相关栏目：` tails and similar links;
- runs of separators, anti-copy jammer codes (`S& V `* V' e!`) and CSS/HTML fragments;
- chains of spam terms (a casino brand pasted over a name inside a sentence);
- in long lines (a whole page on one line), the breaks between paragraphs.

Every segment is then labeled by the model, so a candidate that turns out to be text is kept.
Segments tile their line: joined in order they give the line back exactly.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import accumulate
from typing import NamedTuple

# Segment kinds; "text" is what lies between the others.
KINDS = ("text", "notice", "ad", "prefix", "tail", "separator", "jammer", "code", "spam", "paragraph")
_BRACKET_OPEN = "[【〔(（"
_BRACKET_CLOSE = "]】〕)）"

_NOTICE_CORE = (
    r"[(（][^()（）\n]{0,60}?"
    r"(?:省略|未完|全文共|全文|字数|会员|登录|登陆|注册|阅读全文|完整阅读|下载|免费|预览|当前显示|请阅读|收藏本文|付费)"
    r"[^()（）\n]{0,120}?[)）][^\S\n]*(?:…{1,2}|\.{3,6})?"
)
_AD = (
    r"[\[【〔(（][^\[\]【】〔〕()（）\n]{0,60}?"
    r"(?:https?://|www\.|\.com|\.cn|\.net|\.org|网站|网-|网[^\S\n]|网】|网\]|转载|来源于|本文由|本文来自|访问|站点|公众号|微信|QQ)"
    r"[^\[\]【】〔〕()（）\n]{0,80}?[\]】〕)）]"
)
_TITLE_WORD = r"(?:标题|文章标题|本文标题|题目|篇名|文档标题|名称)"
# Meta fields that follow the title in the same prefix ("标题：… | 作者：… | 日期：… |").
_META_FIELD = r"(?:作者|日期|时间|发布时间|发布日期|更新时间|来源|分类|栏目|类别|浏览|阅读|点击|字数|上传者?|发布者?|编辑)"
_PREFIX = (
    # At the start of the line (ended by a bar or a dash), or after a bracketed site name or a
    # space ending a breadcrumb (then with its colon, and ended by a bar: not a sentence's dash).
    rf"(?:^[^\S\n]*【?{_TITLE_WORD}】?[^\S\n]*[:：]?[^|｜\n]{{1,100}}?[^\S\n]*(?:[|｜]|——|--)"
    rf"|(?<=[】\]\s]){_TITLE_WORD}[^\S\n]*[:：][^|｜\n]{{1,100}}?[^\S\n]*[|｜])"
    rf"(?:[^\S\n]*{_META_FIELD}[^\S\n]*[:：][^|｜\n]{{0,40}}?[^\S\n]*[|｜])*"
    r"|^[^\S\n]*[\[【][^\[\]【】\n]{1,30}[\]】](?=\S)"
)
_TAIL = (
    r"(?:上一篇|下一篇|上一页|下一页|上篇|下篇|相关栏目|相关文章|相关阅读|相关推荐|相关范文|热门文章|推荐阅读|"
    r"本文链接|原文链接|本文地址|文章来源|责任编辑|转载请注明)[^\S\n]*[:：]"
)
_SEPARATOR = r"[|｜_＿\-—=*#~·•・][|｜_＿\-—=*#~·•・]{3,}"  # four or more
# (?:[!-~]{1,3} ){4,}[!-~]{0,3}, written to start with a character set so that `re` skips ahead.
_JAMMER = r"[!-~][!-~]{0,2} (?:[!-~]{1,3} ){3,}[!-~]{0,3}"
_CODE = r"[^\u3400-\u9fff\u3000-\u303f\uff00-\uffef\n][^\u3400-\u9fff\u3000-\u303f\uff00-\uffef\n]{39,}"  # 40 or more
_PORN = "国产|精品|无码|有码|久久|一区|二区|三区|在线观看|在线播放|中文字幕|日韩|欧美|亚洲|人妻|熟女|av|AV"
_GAMBLING = (
    r"(?:娱乐城|娱乐场|娱乐平台|真人娱乐|国际娱乐|线上娱乐|博彩|赌场|百家乐|葡京|威尼斯人|太阳城|时时彩|六合彩|"
    r"体育投注|老虎机|电子游艺|彩票开户|彩票平台|彩票网)"
    r"(?:[\u4e00-\u9fffA-Za-z0-9_丨|,\-]{0,8}(?:娱乐|彩票|博彩|平台|官网|网址|app|APP|开户|注册|投注|棋牌))*"
)
_PORN_CHAIN = (
    rf"(?:{_PORN})(?:[^\n。，]{{0,6}}?(?:{_PORN})){{2,}}(?:[^\s_丨|,\-，。]{{0,4}}[_丨|,\-])?"
)

# Fragments of injected SEO spam (porn, gambling, lottery, fake invoices). Counted, not matched
# alone: a line needs several, joined by one separator, to look like a spam header.
SPAM_TERMS = re.compile(
    "国产|精品|久久|一区|二区|三区|无码|有码|中文字幕|在线观看|在线播放|免费视频|免费观看|高清|人妻|熟女|熟妇|日韩|欧美|亚洲|"
    "蜜桃|午夜|成人|天堂|超碰|婷婷|激情|毛片|一级|黄色|av|porn|偷拍|自拍|乱码|丝袜|少妇|美女|色综合|"
    "彩票|时时彩|赛车|澳门|赌场|娱乐城|娱乐场|真人|网投|棋牌|开奖|注册送|投注|百家乐|博彩|老虎机|葡京|威尼斯人|永利|金沙|"
    "代开|发票|开户"
)


# Each candidate pattern starts with a literal, a character set or a choice of literals (not a
# repeated set: `[…]{4,}` is written `[…][…]{3,}`), so `re` skips ahead to the places where it
# can match; what comes before a match (an ellipsis before a notice, a few
# characters glued before a casino brand, the character before a jammer code) is checked after.
_PATTERNS = (
    ("notice", re.compile(_NOTICE_CORE)),
    ("ad", re.compile(_AD)),
    ("prefix", re.compile(_PREFIX, re.MULTILINE)),
    ("separator", re.compile(_SEPARATOR)),
    ("jammer", re.compile(_JAMMER)),
    ("code", re.compile(_CODE)),
    ("spam", re.compile(_GAMBLING)),
    ("spam", re.compile(_PORN_CHAIN)),
)
# The prefix pattern cannot start with a character set (its first branch is anchored, its second
# looks behind), so `re` would try it at every position. Any match holds one of its title words
# (each holds one of these) or a bracket: it runs only on the lines holding one. Not 题 or 名
# alone: 问题 and 名单 stand in many a body line.
_PREFIX_LINE_CHARS = re.compile(r"标题|题目|篇名|名称|\[|【")
_NOTICE_LEAD = re.compile(r"(?:…{1,2}|\.{3,6})?[^\S\n]*\Z")
_GAMBLING_LEAD = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]{1,4}\Z")
_JAMMER_AFTER = re.compile(r"[\s\u3400-\u9fff，。]")
_TAIL_START = re.compile(_TAIL)
_CODE_MARKS = re.compile(r"[{};<>=]|&\w+;")
_PUNCT = re.compile(r"[^0-9A-Za-z\s]")
# A line longer than this is cut at paragraph breaks inside it (a page or body on one line).
PARAGRAPH_LINE = 300
_PARAGRAPH_BREAK = re.compile(r"(?<=[。！？!?；;：:”」』）)])[ \t\u3000]+|[ \t\u3000]{2,}(?=\S)")
# A short heading glued before the text with a space ("title 14篇 同志们：…").
_HEAD = re.compile(r"^\s*[^\s。！？!?，,；;]{4,40}[ \t\u3000]+(?=\S)")
HEAD_LINE = 80
# Characters on each side of a spam candidate read to tell whether the chain goes on.
SPAM_CONTEXT = 300
# No line is cut into more segments than this; the rest stays in the last one.
MAX_SEGMENTS = 400


class Unit(NamedTuple):
    """A segment [start, end) of line `line` (0-based); `kind` indexes KINDS; `parts` counts the line's units."""

    line: int
    start: int
    end: int
    kind: int
    part: int
    parts: int


# A NamedTuple made from a tuple of its fields by tuple's own constructor: the same value as
# calling the class, without its __new__ written in Python (half the time; units and line
# labels are made for every line).
_make = tuple.__new__


def split_lines(text: str) -> list[str]:
    """The document's lines; `text` has universal newlines already (see reading.normalize_newlines)."""
    return text.split("\n")


def is_blank(line: str) -> bool:
    return not line.strip()


def content_indices(lines: list[str]) -> list[int]:
    """Indices of the lines that carry text; blank lines are decided from their neighbours."""
    return [i for i, line in enumerate(lines) if line.strip()]


_CHAIN = re.compile(r"[_丨|,\-]")


def _accept(kind: str, line: str, start: int, end: int) -> bool:
    text = line[start:end]
    if kind == "spam":
        # A spam header is one chain of phrases: cutting it would leave its tail to be judged
        # alone. Spam is cut out only where the rest of the line is not more of the chain:
        # more separators, or more spam phrases outside any sentence.
        rest = line[max(start - SPAM_CONTEXT, 0) : start] + line[end : end + SPAM_CONTEXT]
        if len(_CHAIN.findall(rest)) >= 2:
            return False
        return "。" in rest or len(SPAM_TERMS.findall(rest.lower())) < 2
    if kind == "jammer":
        marks = _PUNCT.findall(text.replace(" ", ""))
        return len(marks) >= 3 and len(marks) >= 0.3 * len(text.replace(" ", ""))
    if kind == "code":
        return len(_CODE_MARKS.findall(text)) >= 3
    return True


def _scan(text: str) -> list[tuple[int, int, int]]:
    """Candidate spans (start, end, kind) in `text` (one line or lines joined by newlines), by start."""
    found = []
    for priority, (kind, pattern) in enumerate(_PATTERNS):
        code = KINDS.index(kind)
        for m in _prefix_matches(pattern, text) if kind == "prefix" else pattern.finditer(text):
            start, end = m.span()
            if kind == "notice":
                lead = _NOTICE_LEAD.search(text, max(start - 12, 0), start)
                start = lead.start() if lead else start
            elif kind == "jammer":
                if start and not _JAMMER_AFTER.match(text, start - 1) and text[start - 1] != "\n":
                    continue
            elif kind == "spam" and priority == 6:
                lead = _GAMBLING_LEAD.search(text, max(start - 4, 0), start)
                start = lead.start() if lead else start
            found.append((start, priority, end, code))
    for m in _TAIL_START.finditer(text):
        found.append((m.start(), len(_PATTERNS), m.start(), KINDS.index("tail")))
    found.sort()
    return [(start, end, code) for start, _, end, code in found]


def _prefix_matches(pattern: re.Pattern, text: str):
    """`pattern.finditer(text)` for the prefix pattern, searching only the lines that hold one of
    `_PREFIX_LINE_CHARS` (none of its matches crosses a line)."""
    end = -1
    for m in _PREFIX_LINE_CHARS.finditer(text):
        if m.start() < end:  # this line was searched already
            continue
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.start())
        end = len(text) if end < 0 else end
        yield from pattern.finditer(text, start, end)


def split_line(line: str, found: list[tuple[int, int, int]] | None = None) -> list[tuple[int, int, int]]:
    """(start, end, kind) segments tiling the line; one segment for most lines.

    `found` holds the line's candidate spans when the caller scanned many lines at once.
    """
    n = len(line)
    if found is None:
        found = _scan(line)
    if not found and n < HEAD_LINE:
        return [(0, n, 0)]
    cuts: list[tuple[int, int, int]] = []  # accepted spans and boundaries
    starts: list[int] = []  # the accepted spans (end > start), in order, not overlapping
    ends: list[int] = []

    def covered(lo: int, hi: int) -> bool:
        """Whether [lo, hi) meets an accepted span (a point when hi == lo + 0: lo inside one)."""
        k = bisect_left(starts, max(hi, lo + 1)) - 1
        return k >= 0 and ends[k] > lo

    tail = KINDS.index("tail")
    boundaries = 0
    for start, end, kind in found:
        if kind == tail:
            if start > 0 and not covered(start, start + 1) and boundaries < MAX_SEGMENTS:
                cuts.append((start, start, kind))  # a boundary; the tail runs on
                boundaries += 1
        elif (not ends or start >= ends[-1]) and end > start and _accept(KINDS[kind], line, start, end):
            cuts.append((start, end, kind))
            starts.append(start)
            ends.append(end)
    if n >= HEAD_LINE:
        m = _HEAD.match(line)
        if m and not any(c[0] < m.end() for c in cuts):
            cuts.append((0, m.end(), KINDS.index("prefix")))
    if n >= PARAGRAPH_LINE:
        for m in _PARAGRAPH_BREAK.finditer(line):
            if len(cuts) >= 2 * MAX_SEGMENTS:  # the rest would join the last segment anyway
                break
            if not covered(m.start(), m.end()):
                cuts.append((m.end(), m.end(), KINDS.index("paragraph")))
    if not cuts:
        return [(0, n, 0)]
    cuts.sort()
    out: list[tuple[int, int, int]] = []
    pos, pending = 0, 0  # pending: the kind of the text run starting at pos
    for start, end, kind in cuts:
        if start < pos:
            continue
        if start > pos:
            out.append((pos, start, pending))
        if end > start:
            out.append((start, end, kind))
            pos, pending = end, 0
        else:  # a boundary: the next run carries its kind
            pos, pending = start, kind
    if pos < n:
        out.append((pos, n, pending))
    return _tidy(line, out)


def _tidy(line: str, segments: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Whitespace-only or one-character pieces join the segment before them; at most MAX_SEGMENTS."""
    out: list[tuple[int, int, int]] = []
    for start, end, kind in segments:
        piece = line[start:end].strip()
        if out and (len(piece) < 2 and kind in (0, KINDS.index("paragraph"))):
            s, _, k = out[-1]
            out[-1] = (s, end, k)
        elif out and not out[-1][2] and len(line[out[-1][0] : out[-1][1]].strip()) < 2:
            s, _, _ = out[-1]
            out[-1] = (s, end, kind)
        else:
            out.append((start, end, kind))
    if len(out) > MAX_SEGMENTS:
        out = out[: MAX_SEGMENTS - 1] + [(out[MAX_SEGMENTS - 1][0], len(line), 0)]
    return out


def units(lines: list[str]) -> list[Unit]:
    """The units of a document: segments of its lines with text, in order.

    The candidate patterns run once over the whole document, not line by line. Lines without a
    candidate span that are shorter than HEAD_LINE are one unit each; only the others are split.
    """
    text = "\n".join(lines)
    found = _scan(text)
    special: dict[int, list[tuple[int, int, int]]] = {}
    if found:
        ends = list(accumulate(len(line) + 1 for line in lines))  # offset just past each line's newline
        for start, stop, kind in found:
            i = bisect_right(ends, start)
            if i < len(lines):
                offset = ends[i] - len(lines[i]) - 1
                special.setdefault(i, []).append((start - offset, min(stop - offset, len(lines[i])), kind))
    out: list[Unit] = []
    for i, line in enumerate(lines):
        if i not in special and len(line) < HEAD_LINE:  # most lines: one unit, unless blank
            if line.strip():
                out.append(_make(Unit, (i, 0, len(line), 0, 0, 1)))  # Unit(i, 0, len(line), 0, 0, 1)
        elif line.strip():
            segments = split_line(line, special.get(i, []))
            parts = len(segments)
            for part, (start, stop, kind) in enumerate(segments):
                out.append(Unit(i, start, stop, kind, part, parts))
    return out
