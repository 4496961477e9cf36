"""Untrusted text: control sequences removed for display, markup-like text left as it is."""

from core.text import one_line, strip_control


def test_escape_sequences_removed():
    assert strip_control("\x1b[31mred\x1b[0m") == "red"
    assert strip_control("\x1b]0;evil title\x07after") == "after"
    assert strip_control("bell\x07 and \x08backspace") == "bell and backspace"
    assert strip_control("c1\x9bcontrol") == "c1control"


def test_markup_like_text_untouched():
    for text in ("closing [/] tag", "[bold red]X[/]", "[link=http://example.test]x[/link]", "[ Doki Doki☆Morning ]"):
        assert strip_control(text) == text
        assert one_line(text) == text


def test_one_line_folds_and_cuts():
    assert one_line("first\nsecond\r\n  third") == "first second third"
    assert one_line("abcdefghij", 5) == "abcd…"
    assert one_line(None) == ""
