"""The look a conditional format gives a cell, and how a request's words choose it.

`style_from_request("bold green text")` reads the formatting part of a request and returns a
`Style` with hex colours. Colour words map to Excel's own presets where Excel has one
(the "Highlight Cells Rules" dialog):

    light red fill with dark red text   #FFC7CE / #9C0006   ("in red", "highlight red")
    yellow fill with dark yellow text   #FFEB9C / #9C5700   ("in yellow", "highlight in yellow")
    green fill with dark green text     #C6EFCE / #006100   ("in green")
    light red fill                      #FFC7CE             ("red fill", "red background")
    red text                            #9C0006             ("red text", "font colour red")
    red border                          #9C0006             ("red border")

How a colour's role is decided: the nearest content word after the colour, else before it
(skipping filler such as "in", "the", "colour"), says what it paints:
"fill"/"background"/"shading" -> fill only, "text"/"font"/"letters" -> font colour,
"border"/"outline" -> border; otherwise ("in red", "highlight in blue") it is a highlight:
the preset pair for red/yellow/green, a light fill for other colours (black: font colour).
A request with no formatting words at all gets Excel's default, light red fill with dark red
text; one with only "bold"/"italic"/... gets just that.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

# name -> (light fill colour, strong text/border colour). Red, yellow and green are Excel's
# preset pairs; the rest use Excel's standard palette for text and a light tint for fills.
COLOURS: dict[str, tuple[str, str]] = {
    "red": ("#FFC7CE", "#9C0006"),
    "yellow": ("#FFEB9C", "#9C5700"),
    "green": ("#C6EFCE", "#006100"),
    "light red": ("#FFC7CE", "#FF5050"),
    "dark red": ("#C00000", "#9C0006"),
    "bright red": ("#FF0000", "#FF0000"),
    "light yellow": ("#FFF2CC", "#BF8F00"),
    "light green": ("#E2EFDA", "#00B050"),
    "dark green": ("#375623", "#006100"),
    "bright green": ("#00FF00", "#00B050"),
    "orange": ("#F8CBAD", "#C65911"),
    "light orange": ("#FCE4D6", "#ED7D31"),
    "blue": ("#BDD7EE", "#0070C0"),
    "light blue": ("#DDEBF7", "#00B0F0"),
    "dark blue": ("#1F4E78", "#002060"),
    "purple": ("#E4DFEC", "#7030A0"),
    "pink": ("#FFCCFF", "#C71585"),
    "grey": ("#D9D9D9", "#808080"),
    "light grey": ("#EDEDED", "#A6A6A6"),
    "dark grey": ("#808080", "#404040"),
    "black": ("#000000", "#000000"),
    "white": ("#FFFFFF", "#FFFFFF"),
    "brown": ("#C9A27E", "#833C0C"),
    "gold": ("#FFE699", "#BF8F00"),
    "teal": ("#B7DEE8", "#008080"),
}
_SPELLINGS = {"gray": "grey", "violet": "purple", "magenta": "pink", "amber": "orange", "navy": "dark blue",
              "cyan": "light blue", "turquoise": "teal", "lime": "bright green", "crimson": "dark red",
              "maroon": "dark red", "silver": "light grey"}
_SHADES = {"light", "dark", "bright", "pale", "deep"}
_PRESET_PAIRS = {"red", "yellow", "green"}

# Colours of colour scales and data bars: Excel's own scale colours where it has them.
SCALE_COLOURS: dict[str, str] = {
    "red": "#F8696B", "yellow": "#FFEB84", "green": "#63BE7B", "white": "#FCFCFF", "blue": "#5A8AC6",
    "orange": "#FFA500", "purple": "#8064A2", "grey": "#BFBFBF", "black": "#000000",
}
DEFAULT_SCALE = ("#F8696B", "#FFEB84", "#63BE7B")   # low red, middle yellow, high green
DEFAULT_BAR_COLOUR = "#638EC6"

_FILL_WORDS = {"fill", "filled", "background", "backgrounds", "shading", "shade", "shaded"}
_FONT_WORDS = {"text", "font", "fonts", "letters", "lettering", "writing", "characters"}
_BORDER_WORDS = {"border", "borders", "outline", "outlined", "box", "boxed"}
_HIGHLIGHT_WORDS = {"highlight", "highlighted", "mark", "marked", "flag", "flagged"}
_FILLER = {"in", "the", "a", "an", "with", "of", "to", "colour", "color", "coloured", "colored", "it", "them",
           "its", "their", "as", "make", "set", "and", "&", "bold", "italic", "italics", "underlined",
           "underline", "strikethrough"}
_HEX = re.compile(r"#([0-9a-fA-F]{6})\b")
_WORD = re.compile(r"#[0-9a-fA-F]{6}\b|[a-z]+|&")


@dataclass(frozen=True)
class Style:
    """Differential formatting of a matching cell. Colours are "#RRGGBB" or None (unchanged)."""
    fill: str | None = None
    font_color: str | None = None
    bold: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False
    border: str | None = None

    def __post_init__(self):
        for name in ("fill", "font_color", "border"):
            value = getattr(self, name)
            if value is not None and not re.fullmatch(r"#[0-9A-F]{6}", value):
                raise ValueError(f"Style.{name} must be '#RRGGBB' in upper case, got {value!r}")

    @property
    def is_empty(self) -> bool:
        return self == Style()


DEFAULT_STYLE = Style(fill="#FFC7CE", font_color="#9C0006")   # Excel's "Light Red Fill with Dark Red Text"


def _colour_mentions(words: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, name-or-hex) for each colour named in the word list; hex stays hex."""
    found, i = [], 0
    while i < len(words):
        word = words[i]
        if word.startswith("#"):
            found.append((i, i + 1, word.upper()))
            i += 1
            continue
        if word in _SHADES and i + 1 < len(words):
            base = _SPELLINGS.get(words[i + 1], words[i + 1])
            shade = "light" if word == "pale" else "dark" if word == "deep" else word
            if f"{shade} {base}" in COLOURS:
                found.append((i, i + 2, f"{shade} {base}"))
                i += 2
                continue
            if base in COLOURS:
                found.append((i, i + 2, base))
                i += 2
                continue
        name = _SPELLINGS.get(word, word)
        if name in COLOURS:
            found.append((i, i + 1, name))
        i += 1
    return found


def _role(words: list[str], start: int, end: int) -> str:
    """fill | font | border | highlight, from the nearest content word after, else before."""
    def classify(word):
        if word in _FILL_WORDS:
            return "fill"
        if word in _FONT_WORDS:
            return "font"
        if word in _BORDER_WORDS:
            return "border"
        if word in _HIGHLIGHT_WORDS:
            return "highlight"
        return None

    for j in range(end, min(end + 3, len(words))):
        if words[j] in _FILLER:
            continue
        role = classify(words[j])
        if role:
            return role
        break
    for j in range(start - 1, max(start - 4, -1), -1):
        if words[j] in _FILLER and words[j] not in {"and", "&"}:
            continue
        return classify(words[j]) or "highlight"
    return "highlight"


def style_from_request(text: str) -> Style:
    """The Style a request asks for; Excel's default light red / dark red when it names none."""
    # quoted values ("containing 'Green'") are data, not formatting
    lowered = re.sub(r"'[^']*'|\"[^\"]*\"", " ", (text or "").lower()).replace("-", " ")
    lowered = re.sub(r"strike\s*(through|out)|struck\s*(through|out)|crossed\s*out|cross\s*out",
                     " strikethrough ", lowered)
    words = _WORD.findall(lowered)
    bold = bool({"bold", "bolded", "boldface"} & set(words))
    italic = bool({"italic", "italics", "italicised", "italicized"} & set(words))
    underline = bool({"underline", "underlined", "underlining"} & set(words))
    strike = "strikethrough" in words

    fill = font = border = None
    for start, end, name in _colour_mentions(words):
        role = _role(words, start, end)
        if name.startswith("#"):
            light = strong = name
        else:
            light, strong = COLOURS[name]
        if role == "fill":
            fill = light
        elif role == "font":
            font = strong
        elif role == "border":
            border = strong
        elif name in _PRESET_PAIRS:      # "in red", "highlight yellow": Excel's preset pair
            fill = fill or light
            font = font or strong
        elif name == "black":            # a black highlight would hide the value
            font = font or strong
        else:
            fill = fill or light

    style = Style(fill=fill, font_color=font, bold=bold, italic=italic, underline=underline,
                  strike=strike, border=border)
    if style.is_empty:
        return DEFAULT_STYLE
    return style


def scale_colour(word: str) -> str:
    """A colour-scale / data-bar colour from a name or '#RRGGBB' (raises ValueError)."""
    word = word.strip()
    match = _HEX.fullmatch(word)
    if match:
        return "#" + match.group(1).upper()
    name = _SPELLINGS.get(word.lower(), word.lower())
    if name in SCALE_COLOURS:
        return SCALE_COLOURS[name]
    if name in COLOURS:
        return COLOURS[name][1]
    raise ValueError(f"unknown colour {word!r}; use a colour name ({', '.join(sorted(SCALE_COLOURS))}, ...) "
                     f"or '#RRGGBB'")


def with_defaults(style: Style | None) -> Style:
    """The style to write for a highlight rule: the given one, or Excel's default when None/empty."""
    if style is None or style.is_empty:
        return DEFAULT_STYLE
    return replace(style)
