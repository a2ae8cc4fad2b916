from classifier.normalize import normalize


def test_traditional_becomes_simplified():
    assert normalize("當前位置：首頁") == normalize("当前位置：首页")


def test_pinyin_after_characters_is_dropped():
    assert normalize("執(zhí)行力們(men)的發(fā)展") == normalize("执行力们的发展")


def test_pinyin_like_text_not_after_cjk_stays():
    assert "(abc)" in normalize("see (abc) here")


def test_full_width_becomes_half_width_and_lower_case():
    assert normalize("ＡＢＣ１２３（附件）") == "abc123(附件)"
