"""NL2Bash-style template match and exact match for Bash commands.

A template keeps what a command *does* and drops what it does it *to*:

- kept: utility names (`find`, `xargs`, `rm` after `-exec`, the command after `sudo`/`xargs`),
  flags as written (`-name`, `-la`, `--max-depth`; a flag's attached value is abstracted:
  `--max-depth=1` -> `--max-depth=ARG`), and the structure: pipes, `&&`, `||`, `;`, `&`,
  redirection operators and file-descriptor numbers (`2>&1`), command and process
  substitution (`$( ... )`, `<( ... )`, with the inner command templated too), compound
  commands and reserved words (`for`, `if`, `{ }`, `( )`), and find's expression syntax
  (`{}`, `;`, `+`, `(`, `)`, `!`).
- abstracted to `ARG`: every other word (file names, patterns, numbers, strings, variables,
  `-5` style numeric words), redirection targets, assignments.

Two commands template-match when their templates are equal. Flags are not reordered or split
(`-la` and `-al` differ), which makes the metric slightly stricter than NL2Bash's own.

Commands are parsed with bashlex. Where bashlex cannot parse a command (unbalanced quotes,
constructs it does not implement) a regex tokenizer applies the same abstraction;
`template_with_source` says which path was taken so the evaluation can count fallbacks.
"""
from __future__ import annotations

import re

import bashlex

ARG = "ARG"

# Words after which the next non-flag word names a utility again.
_RUNS_A_COMMAND = {"sudo", "xargs", "time", "nohup", "exec", "command", "builtin", "env", "nice",
                   "-exec", "-execdir", "-ok", "-okdir"}
# Flags of those wrappers that take the following word as their argument (so it is not the utility).
_FLAG_TAKES_ARG = {
    "xargs": {"-I", "-n", "-P", "-L", "-d", "-s", "-E", "-a", "--max-args", "--max-procs", "--delimiter"},
    "sudo": {"-u", "-g", "-C", "-p"},
    "nice": {"-n"},
}
# Words that are find/test expression syntax rather than arguments.
_SYNTAX_WORDS = {"{}", ";", "+", "(", ")", "!", "[", "]", "[[", "]]"}


def normalize_whitespace(command: str) -> str:
    return " ".join(command.split())


def exact_match(reference: str, candidate: str) -> bool:
    """Equal after collapsing runs of whitespace (and trimming, e.g. the data's trailing newline)."""
    return normalize_whitespace(reference) == normalize_whitespace(candidate)


def _is_flag(word: str) -> bool:
    """`-name`, `--size`, `--`; not `-` (stdin) and not `-5` (a number)."""
    return word == "--" or (len(word) > 1 and word[0] == "-" and not word[1].isdigit())


def _flag_template(word: str) -> str:
    name, eq, _ = word.partition("=")
    return f"{name}={ARG}" if eq else name


class _Templater:
    """Walks a bashlex tree and emits template tokens."""

    def __init__(self):
        self.tokens: list[str] = []
        self.argument_spans: list[tuple[int, int]] = []   # (start, end) of each word abstracted to ARG

    def node(self, node) -> None:
        kind = node.kind
        if kind == "command":
            self.command(node)
        elif kind in ("pipeline", "list"):
            for part in node.parts:
                self.node(part)
        elif kind == "compound":
            for part in node.list:
                self.node(part)
            for redirect in getattr(node, "redirects", []) or []:
                self.redirect(redirect)
        elif kind in ("for", "if", "while", "until", "function"):
            for part in node.parts:
                if part.kind == "word":
                    self.tokens.append(ARG)  # loop variable, loop items, function name
                else:
                    self.node(part)
        elif kind == "pipe":
            self.tokens.append(node.pipe)
        elif kind == "operator":
            self.tokens.append(node.op)
        elif kind == "reservedword":
            self.tokens.append(node.word)
        elif kind == "redirect":
            self.redirect(node)
        elif kind == "word":
            self.argument(node)
        else:  # assignment, parameter, tilde, heredoc...: data, not structure
            self.tokens.append(ARG)

    def command(self, node) -> None:
        expect_utility = True
        wrapper = None     # the wrapper whose flags we are reading (xargs, sudo...)
        skip_next = False  # the previous flag takes this word as its value
        for part in node.parts:
            if part.kind == "redirect":
                self.redirect(part)
                continue
            if part.kind != "word":
                self.node(part)   # assignments before the utility
                continue
            word = part.word
            # While reading a wrapper's options every dash word is a flag (`xargs -0`).
            is_flag = _is_flag(word) or (wrapper is not None and expect_utility and word.startswith("-"))
            if skip_next:
                skip_next = False
                self.argument(part)
            elif is_flag:
                self.tokens.append(_flag_template(word))
                if word in _RUNS_A_COMMAND:  # find ... -exec UTILITY ...
                    expect_utility, wrapper = True, None
                elif wrapper and word in _FLAG_TAKES_ARG.get(wrapper, ()):
                    skip_next = True
            elif expect_utility:
                if self.substitutions(part):
                    expect_utility = False
                    continue
                self.tokens.append(word)
                expect_utility = word in _RUNS_A_COMMAND
                wrapper = word if expect_utility else None
            elif word in _SYNTAX_WORDS or word == "\\;":
                self.tokens.append(word.lstrip("\\"))
            else:
                self.argument(part)

    def argument(self, word_node) -> None:
        if not self.substitutions(word_node):
            self.tokens.append(ARG)
            self.argument_spans.append(tuple(word_node.pos))

    def substitutions(self, word_node) -> bool:
        """Emit `$( ... )` / `<( ... )` for substitutions inside a word; False when there are none."""
        found = False
        for part in getattr(word_node, "parts", []) or []:
            if part.kind == "commandsubstitution":
                opener = "$("
            elif part.kind == "processsubstitution":
                opener = word_node.word[:2] if word_node.word[:2] in ("<(", ">(") else "<("
            else:
                continue
            found = True
            self.tokens.append(opener)
            self.node(part.command)
            self.tokens.append(")")
        return found

    def redirect(self, node) -> None:
        source = str(node.input) if isinstance(node.input, int) else ""
        target = node.output
        if isinstance(target, int):   # 2>&1
            self.tokens.append(f"{source}{node.type}{target}")
        else:
            self.tokens.append(f"{source}{node.type}")
            if target is not None and not self.substitutions(target):
                self.tokens.append(ARG)
                self.argument_spans.append(tuple(target.pos))


# Fallback: quoted strings, operators, then plain words.
_FALLBACK_TOKEN = re.compile(r"""
    '[^']*'? | "(?:\\.|[^"\\])*"? | `          # quoted strings (possibly unterminated), backticks
  | \$\( | [<>]\( | \d*>&\d* | \d*>> | \d*> | < | \|\| | \| | && | & | ; | \( | \)
  | (?:\\.|[^\s'"`|&;()<>])+                   # a plain word, backslash escapes included
""", re.VERBOSE)
_COMMAND_STARTERS = {"|", "||", "&&", "&", ";", "$(", "<(", ">(", "(", "`"}


def _fallback_template(command: str) -> list[str]:
    tokens: list[str] = []
    expect_utility = True
    expect_target = False
    for token in _FALLBACK_TOKEN.findall(command):
        if token in _COMMAND_STARTERS:
            tokens.append(token)
            expect_utility = True
        elif token == ")":
            tokens.append(token)
        elif re.fullmatch(r"\d*(>&\d*|>>|>|<)", token):
            tokens.append(token)
            expect_target = not token.endswith("&") and not re.search(r"&\d", token)
        elif expect_target:
            tokens.append(ARG)
            expect_target = False
        elif _is_flag(token):
            tokens.append(_flag_template(token))
            expect_utility = token in _RUNS_A_COMMAND
        elif expect_utility and token[0] not in "'\"":
            tokens.append(token)
            expect_utility = token in _RUNS_A_COMMAND
        elif token in _SYNTAX_WORDS or token == "\\;":
            tokens.append(token.lstrip("\\"))
        else:
            tokens.append(ARG)
    return tokens


def template_with_source(command: str) -> tuple[str, bool]:
    """(template, parsed_by_bashlex). The second item is False when the regex fallback was used."""
    command = command.strip()
    if not command:
        return "", True
    try:
        templater = _Templater()
        for tree in bashlex.parse(command):
            templater.node(tree)
        return " ".join(templater.tokens), True
    except Exception:  # bashlex raises ParsingError, NotImplementedError and assorted internal errors
        return " ".join(_fallback_template(command)), False


def analyse(command: str) -> tuple[bool, str, list[tuple[int, int]] | None]:
    """(parses, template, argument spans) from one bashlex parse: what the Bash candidates need of a command."""
    command = command.strip()
    if not command:
        return False, "", None
    try:
        templater = _Templater()
        for tree in bashlex.parse(command):
            templater.node(tree)
    except Exception:  # see template_with_source
        return False, " ".join(_fallback_template(command)), None
    return True, " ".join(templater.tokens), templater.argument_spans


def argument_spans(command: str) -> list[tuple[int, int]] | None:
    """(start, end) offsets in `command` of the words the template abstracts to ARG (file names, patterns,
    numbers, redirection targets; assignments excluded), or None when bashlex cannot parse it."""
    try:
        templater = _Templater()
        for tree in bashlex.parse(command):
            templater.node(tree)
    except Exception:  # see template_with_source
        return None
    return templater.argument_spans


def parses(command: str) -> bool:
    """True when bashlex parses the command (what the code endpoints require of a Bash candidate)."""
    if not command.strip():
        return False
    try:
        bashlex.parse(command)
    except Exception:  # see template_with_source
        return False
    return True


def template(command: str) -> str:
    return template_with_source(command)[0]


def template_match(reference: str, candidate: str) -> bool:
    return template(reference) == template(candidate)
