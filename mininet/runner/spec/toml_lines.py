"""Where each key of a TOML document stands: a small scanner from key paths to line numbers.

``tomllib`` returns plain values without positions, so error messages could not say which line a bad
value is on. :func:`key_lines` reads the same text once more and records the line of every key path
it meets -- table headers, ``[[arrays.of.tables]]`` (with their running index), dotted keys, inline
tables and the elements of arrays, however they are spread over lines. It expects text that
``tomllib`` has already accepted, so it never reports syntax errors itself.

A key path is a tuple of table keys (str) and array indices (int): ``("model", "layers", 2,
"in_features")`` is ``model.layers[2].in_features``.
"""

from __future__ import annotations

import re

Path = tuple  # of str | int

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}


def key_lines(text: str) -> dict[Path, int]:
    """Every key path of a valid TOML document -> the 1-based line where it is written."""
    return _Scanner(text).scan()


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of ``path``, or of its nearest parent that has one (a default value has no line)."""
    path = tuple(path)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.line = 1
        self.lines: dict[Path, int] = {}
        self.aot: dict[Path, int] = {}  # array-of-tables path -> number of [[...]] headers seen

    # ------------------------------------------------------------------ low level
    def peek(self, n: int = 1) -> str:
        return self.s[self.i:self.i + n]

    def advance(self, n: int = 1) -> str:
        chunk = self.s[self.i:self.i + n]
        self.line += chunk.count("\n")
        self.i += n
        return chunk

    def skip_space(self, newlines: bool) -> None:
        """Skip blanks and comments, and newlines too where the grammar allows them (inside arrays)."""
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.advance()
            elif c == "#":
                end = self.s.find("\n", self.i)
                self.i = len(self.s) if end < 0 else end
            else:
                return

    def record(self, path: Path) -> None:
        self.lines.setdefault(path, self.line)

    # ------------------------------------------------------------------ grammar
    def scan(self) -> dict[Path, int]:
        table: Path = ()
        while True:
            self.skip_space(newlines=True)
            if self.i >= len(self.s):
                return self.lines
            if self.peek(2) == "[[":
                self.advance(2)
                path = self.header_path(self.key())
                n = self.aot.get(path, 0)
                self.aot[path] = n + 1
                self.record(path)
                table = path + (n,)
                self.record(table)
                self.skip_space(newlines=False)
                self.advance(2)
            elif self.peek() == "[":
                self.advance()
                table = self.header_path(self.key())
                self.record(table)
                self.skip_space(newlines=False)
                self.advance()
            else:
                self.key_value(table)

    def header_path(self, keys: list[str]) -> Path:
        """A header's keys with the current index inserted after every array of tables they pass."""
        path: Path = ()
        for n, k in enumerate(keys, 1):
            path += (k,)
            if n < len(keys) and path in self.aot:
                path += (self.aot[path] - 1,)
        return path

    def key_value(self, table: Path) -> None:
        keys = self.key()
        for n in range(1, len(keys) + 1):  # a dotted key defines its parents on this line
            self.record(table + tuple(keys[:n]))
        self.skip_space(newlines=False)
        self.advance()  # "="
        self.value(table + tuple(keys))

    def key(self) -> list[str]:
        keys = []
        while True:
            self.skip_space(newlines=False)
            c = self.peek()
            if c in "\"'":
                keys.append(self.string())
            else:
                m = _BARE_KEY.match(self.s, self.i)
                end = m.end() if m else self.i + 1
                keys.append(self.advance(end - self.i))
            self.skip_space(newlines=False)
            if self.peek() != ".":
                return keys
            self.advance()

    def value(self, path: Path) -> None:
        self.skip_space(newlines=False)
        c = self.peek()
        if c == "{":
            self.items("}", lambda _: self.key_value(path))
        elif c == "[":
            def element(index: int) -> None:
                self.record(path + (index,))
                self.value(path + (index,))

            self.items("]", element)
        elif c in "\"'":
            self.string()
        else:  # number, bool, date: up to the next delimiter
            while self.i < len(self.s) and self.s[self.i] not in ",]}\n#":
                self.advance()

    def items(self, close: str, item) -> None:
        """The comma-separated items of an inline table or array, up to ``close``; ``item(index)``
        reads one. Newlines are skipped: arrays may span lines (and inline tables in TOML 1.1)."""
        self.advance()
        index = 0
        while True:
            self.skip_space(newlines=True)
            if self.peek() in (close, ""):
                self.advance()
                return
            if self.peek() == ",":
                self.advance()
                continue
            item(index)
            index += 1

    def string(self) -> str:
        """Read a basic, literal or multi-line string and return its value (keys need it)."""
        quote = self.peek()
        if self.peek(3) == quote * 3:
            self.advance(3)
            end = self.s.find(quote * 3, self.i)
            while end >= 0 and self.s[end + 3:end + 4] == quote:  # up to two quotes may close the content
                end += 1
            end = len(self.s) if end < 0 else end
            if quote == '"':
                while self.s.count("\\", self.i, end) and _escaped(self.s, end):
                    end = self.s.find('"""', end + 1)
            body = self.advance(end - self.i)
            self.advance(3)
            return body
        self.advance()
        out = []
        while self.i < len(self.s):
            c = self.advance()
            if c == quote:
                break
            if c == "\\" and quote == '"':
                e = self.advance()
                if e in "uU":
                    width = 4 if e == "u" else 8
                    out.append(chr(int(self.advance(width), 16)))
                else:
                    out.append(_ESCAPES.get(e, e))
            else:
                out.append(c)
        return "".join(out)


def _escaped(s: str, at: int) -> bool:
    """Whether the character at ``at`` is preceded by an odd number of backslashes."""
    n = 0
    while at - n - 1 >= 0 and s[at - n - 1] == "\\":
        n += 1
    return n % 2 == 1
