from classifier.segment import content_indices, is_blank, split_lines


def test_split_keeps_blank_lines_in_place():
    lines = split_lines("标题\n\n　　正文一\n \n正文二\n")
    assert lines == ["标题", "", "　　正文一", " ", "正文二", ""]
    assert content_indices(lines) == [0, 2, 4]


def test_full_width_space_only_line_is_blank():
    assert is_blank("\u3000\u3000") and not is_blank("　　一")


def test_split_round_trips():
    text = "a\n\nb\n"
    assert "\n".join(split_lines(text)) == text
