"""A strict reader for the subset of YAML that deploy/ uses, with the Python standard library only.

PyYAML is not part of the standard library (nor of the project's dependencies), so the manifest
check reads YAML with this instead. It accepts:
  - block mappings and block sequences (space indentation, "- " items, "key:" with nested nodes,
    a sequence at the same indentation as its key),
  - plain, 'single' and "double" quoted scalars; null/~, true/false, integers and floats as the
    YAML 1.2 core schema types them,
  - literal (|) and folded (>) block scalars with -/+ chomping,
  - one-line flow collections: [a, b], {k: v}, nested,
  - comments, and several documents separated by "---".
Anything else (anchors, aliases, tags, multi-line plain or quoted scalars, complex keys, tabs in
indentation, duplicate keys) is refused with a YamlError naming the line, so that a manifest this
reader accepts is valid YAML that means what the reader thinks it means.
"""

import re


class YamlError(Exception):
    pass


_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def _plain(text, where):
    """Types a plain scalar (YAML 1.2 core schema)."""
    if text[:1] in ("&", "*", "!", "%", "@", "`", "|", ">"):
        raise YamlError(f"{where}: unsupported YAML ('{text[:1]}' at the start of a plain scalar)")
    if text[:2] in ("? ",) or text == "?":
        raise YamlError(f"{where}: complex keys are not supported")
    # Values that YAML 1.1 readers (PyYAML; Kubernetes' reader) and YAML 1.2 readers (Compose)
    # type differently: refused, so that every reader sees the same manifest.
    if (re.match(r"^[-+]?0[0-9]+$", text) or re.match(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$", text)
            or re.match(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$", text)
            or text in ("y", "Y", "n", "N", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON",
                        "off", "Off", "OFF") or "_" in text and _INT.match(text.replace("_", ""))):
        raise YamlError(f"{where}: {text!r} means different things to YAML 1.1 and 1.2 readers: quote it")
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.match(text):
        return int(text, 10)
    if re.match(r"^0o[0-7]+$", text):
        return int(text[2:], 8)
    if re.match(r"^0x[0-9a-fA-F]+$", text):
        return int(text[2:], 16)
    if _FLOAT.match(text) and any(c.isdigit() for c in text):
        return float(text)
    if ": " in text or text.endswith(":"):
        raise YamlError(f"{where}: a plain scalar may not contain ': ' (quote it): {text!r}")
    return text


_ESC = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
        "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0"}


def _quoted(s, i, where):
    """Reads a quoted scalar starting at s[i]; returns (value, index after the closing quote)."""
    q = s[i]
    out = []
    i += 1
    while i < len(s):
        c = s[i]
        if q == "'" and c == "'":
            if s[i + 1:i + 2] == "'":
                out.append("'")
                i += 2
                continue
            return "".join(out), i + 1
        if q == '"' and c == '"':
            return "".join(out), i + 1
        if q == '"' and c == "\\":
            e = s[i + 1:i + 2]
            if e in _ESC:
                out.append(_ESC[e])
                i += 2
                continue
            n = {"x": 2, "u": 4, "U": 8}.get(e)
            if n and re.match(r"^[0-9a-fA-F]{%d}$" % n, s[i + 2:i + 2 + n]):
                out.append(chr(int(s[i + 2:i + 2 + n], 16)))
                i += 2 + n
                continue
            raise YamlError(f"{where}: bad escape \\{e} in a double-quoted scalar")
        out.append(c)
        i += 1
    raise YamlError(f"{where}: quoted scalar not closed on its line (multi-line scalars are not supported)")


def _strip_comment(s):
    """Removes a trailing comment (a '#' at the start or after a space, outside quotes)."""
    i, q = 0, None
    while i < len(s):
        c = s[i]
        if q:
            if c == q:
                if q == "'" and s[i + 1:i + 2] == "'":
                    i += 2
                    continue
                q = None
            elif q == '"' and c == "\\":
                i += 1
        elif c in "'\"" and (i == 0 or s[i - 1] in " \t[{,:-"):
            q = c
        elif c == "#" and (i == 0 or s[i - 1] in " \t"):
            return s[:i].rstrip()
        i += 1
    return s.rstrip()


class _Flow:
    """One-line flow collections: [a, "b", {k: v}]."""

    def __init__(self, s, where):
        self.s, self.i, self.where = s, 0, where

    def err(self, what):
        raise YamlError(f"{self.where}: {what} in flow collection {self.s!r}")

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] == " ":
            self.i += 1

    def node(self):
        self.ws()
        c = self.s[self.i:self.i + 1]
        if c == "[":
            self.i += 1
            items = []
            self.ws()
            if self.s[self.i:self.i + 1] == "]":
                self.i += 1
                return items
            while True:
                items.append(self.node())
                self.ws()
                c = self.s[self.i:self.i + 1]
                self.i += 1
                if c == "]":
                    return items
                if c != ",":
                    self.err("expected ',' or ']'")
                self.ws()
                if self.s[self.i:self.i + 1] == "]":
                    self.i += 1
                    return items
        if c == "{":
            self.i += 1
            m = {}
            self.ws()
            if self.s[self.i:self.i + 1] == "}":
                self.i += 1
                return m
            while True:
                k = self.scalar(key=True)
                self.ws()
                if self.s[self.i:self.i + 1] != ":":
                    self.err("expected ':' after a key")
                self.i += 1
                if k in m:
                    self.err(f"duplicate key {k!r}")
                m[k] = self.node()
                self.ws()
                c = self.s[self.i:self.i + 1]
                self.i += 1
                if c == "}":
                    return m
                if c != ",":
                    self.err("expected ',' or '}'")
        return self.scalar()

    def scalar(self, key=False):
        self.ws()
        if self.s[self.i:self.i + 1] in ("'", '"'):
            v, self.i = _quoted(self.s, self.i, self.where)
            return v
        start = self.i
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in ",[]{}":
                break
            if c == ":" and (key or self.s[self.i + 1:self.i + 2] in (" ", ",", "]", "}", "")):
                if key:
                    break
                self.err("':' in a flow scalar")
            self.i += 1
        text = self.s[start:self.i].strip()
        if not text and not key:
            self.err("empty entry")
        return _plain(text, self.where)


def _inline(text, where):
    """A value written on the same line as its key or dash: flow collection, quoted or plain."""
    if text[:1] in "[{":
        f = _Flow(text, where)
        v = f.node()
        f.ws()
        if f.i != len(text):
            raise YamlError(f"{where}: text after a flow collection: {text[f.i:]!r}")
        return v
    if text[:1] in "'\"":
        v, end = _quoted(text, 0, where)
        if text[end:].strip():
            raise YamlError(f"{where}: text after a quoted scalar: {text[end:]!r}")
        return v
    return _plain(text, where)


_KEY = re.compile(r"""^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s'"#\[\]{},&*!|>%@`?-][^#]*?|-[^\s][^#]*?)\s*:(?:\s+(.*))?$""")


class _Doc:
    def __init__(self, lines, name):
        # lines: list of (lineno, indent, text without indentation and comment); blanks removed
        # except inside block scalars, which keep the raw lines in self.raw.
        self.lines, self.name, self.pos = lines, name, 0

    def where(self, k=None):
        n = self.lines[self.pos if k is None else k][0]
        return f"{self.name}:{n}"

    def peek(self):
        return self.lines[self.pos] if self.pos < len(self.lines) else None

    def node(self, indent):
        """Parses the node whose first line has exactly `indent` spaces."""
        ln = self.peek()
        if ln is None or ln[1] != indent:
            raise YamlError(f"{self.where() if ln else self.name}: bad indentation")
        if ln[2] == "-" or ln[2].startswith("- "):
            return self.seq(indent)
        if _KEY.match(ln[2]):
            return self.mapping(indent)
        self.pos += 1
        if self.peek() and self.peek()[1] > indent:
            raise YamlError(f"{self.where()}: multi-line plain scalars are not supported")
        return _inline(ln[2], self.where(self.pos - 1))

    def value_after(self, rest, indent, where, in_seq=False):
        """The value of a key (or an item) whose remaining text on its line is `rest`."""
        if rest is None or rest == "":
            nxt = self.peek()
            if nxt is None or nxt[1] < indent or (nxt[1] == indent and not (
                    not in_seq and (nxt[2] == "-" or nxt[2].startswith("- ")))):
                return None
            return self.node(nxt[1])
        if rest[:1] in "|>":
            return self.block_scalar(rest, indent, where)
        return _inline(rest, where)

    def block_scalar(self, header, indent, where):
        m = re.match(r"^([|>])([-+]?)$", header)
        if not m:
            raise YamlError(f"{where}: unsupported block scalar header {header!r}")
        style, chomp = m.groups()
        raw = []
        while self.pos < len(self.lines):
            n, ind, text, full = self.lines[self.pos]
            if full.strip() and ind <= indent:
                break
            raw.append(full)
            self.pos += 1
        body = raw
        nonblank = [len(r) - len(r.lstrip(" ")) for r in body if r.strip()]
        if not nonblank:
            return ""
        cut = min(nonblank)
        body = [r[cut:] if r.strip() else "" for r in body]
        while body and body[-1] == "" and chomp != "+":
            body.pop()
        if style == "|":
            text = "\n".join(body)
        else:
            parts, para = [], []
            for r in body:
                if r == "":
                    parts.append(" ".join(para))
                    para = []
                else:
                    para.append(r)
            parts.append(" ".join(para))
            text = "\n".join(parts)
        return text if chomp == "-" else text + "\n"

    def mapping(self, indent):
        m = {}
        while True:
            ln = self.peek()
            if ln is None or ln[1] < indent:
                return m
            if ln[1] > indent:
                raise YamlError(f"{self.where()}: bad indentation")
            km = _KEY.match(ln[2])
            if not km:
                if ln[2] == "-" or ln[2].startswith("- "):
                    raise YamlError(f"{self.where()}: a sequence item where a key was expected")
                raise YamlError(f"{self.where()}: expected 'key: value', got {ln[2]!r}")
            where = self.where()
            raw_key = km.group(1).strip()
            key = _inline(raw_key, where) if raw_key[:1] in "'\"" else _plain(raw_key, where)
            if isinstance(key, (dict, list)):
                raise YamlError(f"{where}: complex keys are not supported")
            if key in m:
                raise YamlError(f"{where}: duplicate key {key!r}")
            self.pos += 1
            m[key] = self.value_after(km.group(2), indent, where)

    def seq(self, indent):
        items = []
        while True:
            ln = self.peek()
            if ln is None or ln[1] < indent:
                return items
            if ln[1] > indent:
                raise YamlError(f"{self.where()}: bad indentation")
            if not (ln[2] == "-" or ln[2].startswith("- ")):
                return items
            where = self.where()
            rest = ln[2][1:].lstrip(" ")
            if rest == "":
                self.pos += 1
                items.append(self.value_after("", indent + 1, where, in_seq=True))
                continue
            # "- key: value" or "- - x": the rest is a node at the column it starts in; parse it
            # by rewriting this line as that node's first line.
            col = indent + (len(ln[2]) - len(rest))
            if _KEY.match(rest) or rest == "-" or rest.startswith("- "):
                self.lines[self.pos] = (ln[0], col, rest, ln[3])
                items.append(self.node(col))
            else:
                self.pos += 1
                items.append(self.value_after(rest, indent, where, in_seq=True))


def load_all(text, name="<yaml>"):
    """Returns the list of documents in `text`; raises YamlError on anything outside the subset."""
    docs, cur = [], []
    for n, full in enumerate(text.split("\n"), 1):
        if full.startswith("%"):
            raise YamlError(f"{name}:{n}: directives are not supported")
        if full.rstrip() in ("---", "..."):
            docs.append(cur)
            cur = []
            continue
        if full.startswith("--- "):
            raise YamlError(f"{name}:{n}: content after '---' is not supported")
        lead = full[:len(full) - len(full.lstrip(" \t"))]
        if "\t" in lead:
            raise YamlError(f"{name}:{n}: tab in indentation")
        cur.append((n, len(lead), _strip_comment(full.strip()), full.rstrip()))
    docs.append(cur)
    out = []
    for lines in docs:
        if any(text for _, _, text, _ in lines):
            out.append(_parse_doc(_Doc(lines, name)))
    return out


def _parse_doc(d):
    """Drops blank and comment-only lines, except in the body of a block scalar (a line ending in
    ': |', '- |' or '>' starts one; its body is every following line that is blank or indented
    deeper than the header line), then parses the document's one root node."""
    full = d.lines
    d.lines = []
    i = 0
    while i < len(full):
        n, ind, text, raw = full[i]
        if not text:
            i += 1
            continue
        d.lines.append(full[i])
        i += 1
        if re.search(r"(^|:\s|^-\s)\s*[|>][-+]?$", text) or re.match(r"^(-\s+)?[|>][-+]?$", text):
            while i < len(full) and (not full[i][3].strip() or full[i][1] > ind):
                d.lines.append(full[i])
                i += 1
    if not d.lines:
        return None
    first = d.lines[0][1]
    v = d.node(first)
    if d.pos != len(d.lines):
        raise YamlError(f"{d.where()}: unexpected content (bad indentation?)")
    return v


def load(text, name="<yaml>"):
    docs = load_all(text, name)
    if len(docs) != 1:
        raise YamlError(f"{name}: expected one YAML document, found {len(docs)}")
    return docs[0]
