"""Arguments from the request, copied into a Bash command: a right command comes with the user's own arguments.

    fill_arguments("find . -name '*.txt' -size +5M", "find all .log files in /var larger than 10MB")
    -> "find /var -name '*.log' -size +10M"

A request's arguments are typed: globs (`*.log`, and `.log files` / `pdf files` / `every csv` as `*.log` / `*.pdf` / `*.csv`),
paths (starting with `/`, `~`, `./`, `../`, or quoted with a `/`), file names (`notes.txt`), sizes
(`10MB`, `2 gigabytes` -> `10M`, `2G`, find's units), numbers, and other quoted strings. A command's
arguments are the words the NL2Bash template abstracts (metrics/bash_template.argument_spans), typed the
same way. The i-th argument of a kind in the command takes the i-th argument of that kind in the request;
a size or number keeps the command's sign (`+5M` -> `+10M`) and a word keeps its quoting (a bare glob
stays bare, as the command's author wrote it; text with spaces or shell syntax is quoted). Plain strings
are only replaced where the word was a quoted literal of the request the command was written for (the
neighbour's request, when there is one): without that evidence a word may be a program (`awk '{...}'`) or
a user name that the request does not mention. A command bashlex cannot parse is returned unchanged.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..metrics.bash_template import argument_spans

_spans = lru_cache(maxsize=1 << 16)(argument_spans)   # bashlex is slow; train codes recur across requests

EXTENSIONS = ("txt log csv json xml html htm py sh c cpp h hpp java js ts php rb pl go rs pdf jpg jpeg png gif "
              "svg mp3 mp4 avi gz tgz tar zip bz2 xz md conf cfg ini yml yaml sql bak tmp doc docx xls xlsx so o "
              "class jar war iso deb rpm out dat").split()
_EXT = "|".join(EXTENSIONS)
_QUOTED = re.compile(r"""(?<![\w])(['"`])([^'"`\n]{1,120}?)\1(?!\w)""")
_GLOB = re.compile(r"^[\w.\-/~]*[*?][\w.\-*?/\[\]]*$")
_FILE = re.compile(rf"^[\w\-.]*\w\.(?:{_EXT})$", re.I)
_PATH = re.compile(r"^(?:/|~|\./|\.\./)[\w.\-/~]*$|^\.$|^\.\.$")
_SIZE_CODE = re.compile(r"^([+-]?)(\d+)([kKMGTPc])$")
_NUMBER_CODE = re.compile(r"^([+-]?)(\d+(?:\.\d+)?)$")
_SIZE_REQUEST = re.compile(r"(?<![\w.])(\d+)\s*(kb|k|kilobytes?|mb|m|megabytes?|gb|g|gigabytes?|tb|terabytes?|bytes?)\b",
                           re.I)
_UNITS = {"k": "k", "m": "M", "g": "G", "t": "T", "b": "c"}
_EXT_FILES = re.compile(rf"(?<![\w*])\.?({_EXT})\s+files?\b|\b(?:every|each|all)\s+\.?({_EXT})s?\b", re.I)
_FILE_WORD = re.compile(rf"(?<![\w/.~-])([\w\-]*[A-Za-z0-9_]\.(?:{_EXT}))(?![\w/])", re.I)
_PATH_WORD = re.compile(r"(?<![\w'\"`])((?:~|\.\.?)?/[\w.\-/~]*)")
_NUMBER_WORD = re.compile(r"(?<![\w.\-+/])(\d+(?:\.\d+)?)(?![\w.]*\w)")


@dataclass(frozen=True)
class Argument:
    kind: str     # glob, path, file, size, number, string
    text: str     # as it goes into a command (sizes in find's units: 10M)
    start: int = 0


def classify(word: str) -> str:
    """The kind of an argument's text (quotes already removed)."""
    if _SIZE_CODE.match(word) and not word[-1].isdigit():
        return "size"
    if _NUMBER_CODE.match(word):
        return "number"
    if _GLOB.match(word):
        return "glob"
    if _PATH.match(word) or ("/" in word and re.fullmatch(r"[\w.\-/~]+", word) and word.count("/") >= 1
                             and not re.fullmatch(r"[A-Za-z]+/[A-Za-z]+", word)):
        return "path"
    if _FILE.match(word):
        return "file"
    return "string"


def request_arguments(request: str) -> list[Argument]:
    """The typed arguments of a request, in order of appearance (see the module doc)."""
    found: list[Argument] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    def add(kind: str, text: str, a: int, b: int):
        if free(a, b):
            found.append(Argument(kind, text, a))
            taken.append((a, b))

    for m in _QUOTED.finditer(request):
        content = m.group(2).strip()
        if content:
            kind = classify(content)
            add("size" if kind == "size" else kind, content, *m.span())
    for m in _SIZE_REQUEST.finditer(request):
        unit = m.group(2).lower()[0]
        add("size", m.group(1) + _UNITS[unit], *m.span())
    for m in _EXT_FILES.finditer(request):
        group = 1 if m.group(1) else 2
        add("glob", f"*.{m.group(group)}", *m.span(group))
    for m in _FILE_WORD.finditer(request):
        add("file", m.group(1), *m.span(1))
    for m in _PATH_WORD.finditer(request):
        text = m.group(1).rstrip(".")
        if text not in ("/",) or request[m.end():m.end() + 1].isspace():
            add("path", text, m.start(1), m.start(1) + len(text))
    for m in re.finditer(r"(?<![\w*])(\*[\w.*?\-]*|[\w.\-]*\*[\w.*?\-]*)(?![\w*])", request):
        if "*" in m.group(1) and len(m.group(1)) > 1:
            add("glob", m.group(1), *m.span(1))
    for m in _NUMBER_WORD.finditer(request):
        add("number", m.group(1), *m.span(1))
    return sorted(found, key=lambda a: a.start)


def _quoted_strings(request: str) -> list[str]:
    return [m.group(2).strip() for m in _QUOTED.finditer(request) if classify(m.group(2).strip()) == "string"]


def _unquote(word: str) -> tuple[str, str, str]:
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[0], word[1:-1], word[0]
    if word.startswith("\\*"):   # find . -name \*.txt
        return "\\", word[1:], ""
    return "", word, ""


def _rewrite(old_word: str, kind: str, new: Argument) -> str:
    open_q, body, close_q = _unquote(old_word)
    text = new.text
    if kind in ("size", "number"):
        sign = re.match(r"^[+-]?", body).group(0)
        text = sign + text.lstrip("+-")
    if open_q == "\\" and text.startswith("*"):
        return "\\" + text
    if not open_q and re.search(r"[\s$;&|<>()'\"]", text):   # a bare glob stays bare: `cat *.csv` expands it
        return "'" + text + "'" if "'" not in text else '"' + text + '"'
    return open_q + text + close_q


def fill_arguments(code: str, request: str, written_for: str | None = None,
                   spans: list[tuple[int, int]] | None = None) -> str:
    """`code` with its arguments replaced by the request's, kind by kind (module doc). `written_for`: the
    request the code answers (a retrieved neighbour's); its quoted strings allow plain-string swaps.
    `spans`: the code's argument spans when the caller has them (bash_template.analyse)."""
    spans = _spans(code) if spans is None else spans
    if not spans:
        return code
    wanted = request_arguments(request)
    if not wanted:
        return code
    by_kind: dict[str, list[Argument]] = {}
    for arg in wanted:
        by_kind.setdefault(arg.kind, []).append(arg)
    evidence = set(_quoted_strings(written_for)) if written_for else set()
    used: dict[str, int] = {}
    edits = []
    for a, b in spans:
        word = code[a:b]
        body = _unquote(word)[1]
        kind = classify(body)
        if kind == "string" and body not in evidence:
            continue
        pool = by_kind.get(kind, [])
        i = used.get(kind, 0)
        if i >= len(pool):
            continue
        used[kind] = i + 1
        if pool[i].text != body:
            edits.append((a, b, _rewrite(word, kind, pool[i])))
    for a, b, text in sorted(edits, reverse=True):
        code = code[:a] + text + code[b:]
    return code
