#!/usr/bin/env python3
"""deploy.yaml_subset: the YAML reader of the manifest check reads what YAML says (YAML 1.2
spec, chapters 7-9, examples written out by hand below) and refuses what it does not support or
what YAML 1.1 and 1.2 readers disagree on. When PyYAML happens to be installed, every example and
every deploy/ manifest is also compared with it."""

import glob
import importlib.util
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from yaml_subset import YamlError, load, load_all  # noqa: E402

CASES = [
    # block mapping, flow sequence and flow mapping on one line (spec 7.4, 7.5)
    ("a: 1\nb: [1, 2, {c: d}]\n", {"a": 1, "b": [1, 2, {"c": "d"}]}),
    # a sequence at the same indentation as its key (spec 8.2.1, example 8.22 style)
    ("a:\n- p\n- q\nb: 2\n", {"a": ["p", "q"], "b": 2}),
    # nested sequences and mappings in sequence items (spec 8.2.1 compact forms)
    ("a:\n  - - 1\n    - 2\n  - k: v\n    l: w\n", {"a": [[1, 2], {"k": "v", "l": "w"}]}),
    # literal block scalar keeps lines, blank lines and '#' (spec 8.1.2)
    ("s: |\n  line1\n\n  line2\n  # not a comment\nt: x\n", {"s": "line1\n\nline2\n# not a comment\n", "t": "x"}),
    # strip chomping (spec 8.1.1.2)
    ("s: |-\n  one\n  two\n\n\nt: 1\n", {"s": "one\ntwo", "t": 1}),
    # folded block scalar (spec 8.1.3)
    ("s: >\n  folded\n  text\n\n  para\n", {"s": "folded text\npara\n"}),
    # double-quoted escapes, '#' inside quotes, single-quoted '' (spec 7.3)
    ('q: "a\\tb\\u00e9 # no"  # yes\nr: \'it\'\'s\'\n', {"q": "a\tb\u00e9 # no", "r": "it's"}),
    # core schema (spec 10.3.2)
    ("f: 1.5\nz: ~\nw: -3\nu: .5\nt: true\nv: null\ne:\n", {"f": 1.5, "z": None, "w": -3, "u": 0.5, "t": True, "v": None,
                                                          "e": None}),
    ("k: v # comment\n# full line\nl:   w\n", {"k": "v", "l": "w"}),
    ("- a\n- b: c\n  d: e\n-\n  - f\n", ["a", {"b": "c", "d": "e"}, ["f"]]),
    ('e: {}\nf: []\ng: ""\n', {"e": {}, "f": [], "g": ""}),
    # ':' not followed by a space stays inside a plain scalar (spec 7.3.3)
    ("url: http://x:80/a\nport: 10000-10007:10000-10007/udp\n",
     {"url": "http://x:80/a", "port": "10000-10007:10000-10007/udp"}),
]

REFUSED = [
    ("a: &x 1\n", "anchor"), ("a: *x\n", "alias"), ("a: !!str 1\n", "tag"), ("a: 1\na: 2\n", "duplicate key"),
    ("a:\n\tb: 1\n", "tab indentation"), ('a: "x\n  y"\n', "multi-line quoted"), ("a: b: c\n", "': ' in plain scalar"),
    ("a\n  b\n", "multi-line plain"), ("? a\n: b\n", "complex key"), ("a: [1, 2\n", "unclosed flow"),
    ("x: 0440\n", "1.1 octal"), ("x: 1e3\n", "exponent without dot"), ("x: 22:22\n", "1.1 sexagesimal"),
    ("x: yes\n", "1.1 boolean"), ("y: 1\n", "1.1 boolean key"), ("x: on\n", "1.1 boolean"), ("x: 1_000\n", "1.1 underscores"),
    ("a: 1\n b: 2\n", "bad indentation"), ("%YAML 1.2\n---\na: 1\n", "directive"),
]


class YamlSubset(unittest.TestCase):
    def test_cases(self):
        for text, want in CASES:
            with self.subTest(text=text):
                self.assertEqual(load(text), want)

    def test_documents(self):
        self.assertEqual(load_all("---\na: 1\n---\nb: 2\n"), [{"a": 1}, {"b": 2}])
        self.assertEqual(load_all("# only a comment\n"), [])

    def test_refused(self):
        for text, why in REFUSED:
            with self.subTest(why=why):
                with self.assertRaises(YamlError):
                    load_all(text)

    def test_error_names_the_line(self):
        with self.assertRaisesRegex(YamlError, r"^f\.yaml:3: duplicate key 'a'"):
            load("a: 1\nb: 2\na: 3\n", "f.yaml")

    @unittest.skipUnless(importlib.util.find_spec("yaml"), "PyYAML not installed")
    def test_same_as_pyyaml(self):
        import yaml
        for text, _ in CASES:
            self.assertEqual(load_all(text), [d for d in yaml.safe_load_all(text) if d is not None])
        root = os.path.join(HERE, "..", "..", "deploy")
        for path in glob.glob(os.path.join(root, "k8s", "*.yaml")) + glob.glob(os.path.join(root, "*.yaml")):
            with open(path, encoding="utf-8") as f:
                text = f.read()
            with self.subTest(path=path):
                self.assertEqual(load_all(text, path), [d for d in yaml.safe_load_all(text) if d is not None])


if __name__ == "__main__":
    unittest.main(verbosity=1)
