import pytest

from cf_rules.excel.styles import DEFAULT_STYLE, Style, scale_colour, style_from_request

LIGHT_RED, DARK_RED = "#FFC7CE", "#9C0006"
YELLOW, DARK_YELLOW = "#FFEB9C", "#9C5700"
GREEN, DARK_GREEN = "#C6EFCE", "#006100"


@pytest.mark.parametrize("request_text, fill, font", [
    # Excel's preset pairs for a bare or "highlight" colour
    ("in red", LIGHT_RED, DARK_RED),
    ("highlight them red", LIGHT_RED, DARK_RED),
    ("highlight in yellow", YELLOW, DARK_YELLOW),
    ("mark in green", GREEN, DARK_GREEN),
    ("highlight values over 500 in red", LIGHT_RED, DARK_RED),
    ("Highlight In GREEN", GREEN, DARK_GREEN),
    # fill words: the fill alone ("Light Red Fill" preset)
    ("red fill", LIGHT_RED, None),
    ("fill red", LIGHT_RED, None),
    ("with a yellow background", YELLOW, None),
    ("light blue background", "#DDEBF7", None),
    ("#00ff00 fill", "#00FF00", None),
    # text/font words: a font colour ("Red Text" preset)
    ("red text", None, DARK_RED),
    ("text in red", None, DARK_RED),
    ("font colour blue", None, "#0070C0"),
    ("font color blue", None, "#0070C0"),
    ("make the text dark blue", None, "#002060"),
    ("blue font", None, "#0070C0"),
    ("bold green text", None, DARK_GREEN),
    # both roles in one request
    ("yellow fill with red text", YELLOW, DARK_RED),
    ("red text on a yellow background", YELLOW, DARK_RED),
    # other colours: a light fill
    ("highlight in orange", "#F8CBAD", None),
    ("in blue", "#BDD7EE", None),
    ("in gray", "#D9D9D9", None),
    ("in grey", "#D9D9D9", None),
    ("highlight in black", None, "#000000"),
])
def test_colours_and_roles(request_text, fill, font):
    style = style_from_request(request_text)
    assert (style.fill, style.font_color) == (fill, font)


@pytest.mark.parametrize("request_text, flags", [
    ("bold", {"bold": True}),
    ("bold green text", {"bold": True}),
    ("in italics", {"italic": True}),
    ("italic and underlined", {"italic": True, "underline": True}),
    ("strike through", {"strike": True}),
    ("strikethrough", {"strike": True}),
    ("strike-through in grey", {"strike": True}),
    ("cross out the cell", {"strike": True}),
])
def test_font_flags(request_text, flags):
    style = style_from_request(request_text)
    for name in ("bold", "italic", "underline", "strike"):
        assert getattr(style, name) == flags.get(name, False), name


def test_flags_alone_do_not_add_a_colour():
    assert style_from_request("make it bold") == Style(bold=True)
    assert style_from_request("strike through") == Style(strike=True)


def test_red_border():
    style = style_from_request("red border")
    assert style.border == DARK_RED and style.fill is None and style.font_color is None


@pytest.mark.parametrize("request_text", ["", "highlight them", "highlight sales under 500", None])
def test_default_is_light_red_fill_with_dark_red_text(request_text):
    assert style_from_request(request_text) == DEFAULT_STYLE == Style(fill=LIGHT_RED, font_color=DARK_RED)


def test_quoted_values_are_not_colours():
    style = style_from_request("highlight cells containing 'green' in yellow")
    assert (style.fill, style.font_color) == (YELLOW, DARK_YELLOW)


def test_style_rejects_malformed_colours():
    with pytest.raises(ValueError):
        Style(fill="red")
    with pytest.raises(ValueError):
        Style(font_color="#12345")


def test_scale_colours():
    assert scale_colour("red") == "#F8696B"
    assert scale_colour("Green") == "#63BE7B"
    assert scale_colour("#12abef") == "#12ABEF"
    assert scale_colour("dark blue") == "#002060"
    with pytest.raises(ValueError, match="unknown colour"):
        scale_colour("sparkly")
