import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from classifier.normalize import nfkc, normalize, to_simplified


def test_traditional_becomes_simplified():
    assert normalize("當前位置：首頁") == normalize("当前位置：首页")


def test_pinyin_after_characters_is_dropped():
    assert normalize("執(zhí)行力們(men)的發(fā)展") == normalize("执行力们的发展")


def test_pinyin_like_text_not_after_cjk_stays():
    assert "(abc)" in normalize("see (abc) here")


def test_full_width_becomes_half_width_and_lower_case():
    assert normalize("ＡＢＣ１２３（附件）") == "abc123(附件)"


def test_lone_surrogates_pass_through_simplification():
    # JSON input can carry them ("\ud800"); OpenCC itself takes only UTF-8.
    assert to_simplified("當前\ud800位置\udfff") == "当前\ud800位置\udfff"

# Characters that compose, expand, fold or fall outside the table's blocks, mixed with any others.
_TRICKY = "，。（）ａＡ…①㈠㎡ϐ\u3099\u309bか한ㄱㅏ\uffa1\uffc2\u326e\uffa3a\u0304\u0301\u0345ﬁ\ufffd\U0001d400中\n "


@given(st.lists(st.one_of(st.sampled_from(_TRICKY), st.characters(blacklist_categories=("Cs",))), max_size=40))
@example(list("ㄱㅏ\nか\u3099…①"))
@example(list("\uffa1\uffc2\u326e\uffa3ﾡ"))  # half-width and circled Hangul map to jamo that compose
def test_nfkc_by_table_equals_unicodedata(chars):
    text = "".join(chars)
    assert nfkc(text) == unicodedata.normalize("NFKC", text)


def test_nfkc_keeps_lone_surrogates():
    assert nfkc("ＡＢ\ud800中\n（x）") == unicodedata.normalize("NFKC", "ＡＢ\ud800中\n（x）")
