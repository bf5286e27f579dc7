#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fails on SQL built by string formatting in the C sources: every SQL
argument of sqlite3_prepare*() and sqlite3_exec() must be a string literal
or an element of a constant table of literals, and no printf-family format
may hold SQL. The few exceptions are listed below with their reason.
`--self-test` runs the check on planted examples and fails unless it
catches each of them."""

import os
import re
import sys
import tempfile

# (file relative to the root, a text on the flagged line or call, reason)
ALLOW = [
    ("dispatcher/store/src/store.c", "PRAGMA user_version=%zu",
     "user_version cannot be bound; the value is the store's own "
     "migration counter, an integer"),
    ("dispatcher/store/src/store.c", "sqlite3_exec(s->db, sql,",
     "runs the PRAGMA user_version statement formatted above"),
    ("dispatcher/store/src/store.c", "sqlite3_prepare_v2(s->db, sql,",
     "pragma_int(): a parameter, and every caller passes a literal"),
]

SCAN_DIRS = ["common", "schema", "dispatcher", "edge-agent", "cli", "bench"]
CALL = re.compile(r"\bsqlite3_(prepare(?:16)?(?:_v2|_v3)?|exec)\s*\(")
PRINTF = re.compile(r"\b(v?s?n?printf|asprintf|vasprintf|buf_printf|"
                    r"buf_appendf)\s*\(")
SQL_WORD = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|PRAGMA|CREATE|DROP|"
                      r"ALTER|REPLACE|ATTACH|VALUES|WHERE)\b")
LITERAL = re.compile(r'^(\s*"(?:[^"\\]|\\.)*"\s*)+$')
ELEMENT = re.compile(r"^([A-Za-z_]\w*)(\s*\[[^\]]*\])?$")


def strip_comments(text):
    """Comments become spaces (line numbers kept); strings stay."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def call_args(text, start):
    """The top-level arguments of the call whose '(' is at start, and the
    offset after its ')'."""
    args, depth, i, cur = [], 0, start, []
    while i < len(text):
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args, i + 1
        elif c == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    return args, i


def constant_table(text, name):
    """Whether name is a constant array or string of literals."""
    return re.search(r"\bstatic\s+const\s+char\s*(\*\s*const\s+)?%s\s*\["
                     % re.escape(name), text) is not None or \
        re.search(r"#\s*define\s+%s\s+\"" % re.escape(name), text) is not None


def allowed(rel, snippet):
    return any(rel == f and t in snippet for f, t, _ in ALLOW)


def check_file(path, rel):
    problems = []
    raw = open(path, encoding="utf-8", errors="replace").read()
    text = strip_comments(raw)
    lines = raw.split("\n")

    def where(off):
        return text.count("\n", 0, off) + 1

    for m in CALL.finditer(text):
        args, end = call_args(text, m.end() - 1)
        if len(args) < 2:
            continue
        sql = args[1]
        snippet = " ".join(text[m.start():end].split())
        if LITERAL.match(sql):
            continue
        e = ELEMENT.match(sql)
        if e and constant_table(text, e.group(1)):
            continue
        if allowed(rel, snippet):
            continue
        problems.append("%s:%d: sqlite3_%s with SQL '%s' that is neither a "
                        "literal nor a constant table: bind parameters "
                        "instead" % (rel, where(m.start()), m.group(1), sql))
    for m in PRINTF.finditer(text):
        args, end = call_args(text, m.end() - 1)
        fmts = [a for a in args if LITERAL.match(a)]
        if not fmts or not SQL_WORD.search(fmts[0]):
            continue
        line = lines[where(m.start()) - 1]
        snippet = " ".join(text[m.start():end].split())
        if allowed(rel, snippet) or allowed(rel, line):
            continue
        problems.append("%s:%d: %s formats SQL (%s): use a prepared "
                        "statement with bound parameters"
                        % (rel, where(m.start()), m.group(1),
                           SQL_WORD.search(fmts[0]).group(1)))
    return problems


def check_tree(root, dirs):
    problems = []
    for d in dirs:
        for base, subdirs, files in os.walk(os.path.join(root, d)):
            subdirs[:] = [s for s in subdirs if not s.startswith("build")]
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    p = os.path.join(base, f)
                    problems += check_file(p, os.path.relpath(p, root))
    return problems


PLANTED = {
    "fmt.c": 'void f(char *b, const char *id) {\n'
             '  snprintf(b, 64, "SELECT * FROM jobs WHERE id=\'%s\'", id);\n}\n',
    "prep.c": 'int f(sqlite3 *db, char *q) {\n'
              '  return sqlite3_prepare_v2(db, q, -1, 0, 0);\n}\n',
    "exec.c": 'int f(sqlite3 *db, struct buf *b) {\n'
              '  return sqlite3_exec(db, b->data, 0, 0, 0);\n}\n',
    "split.c": 'int f(sqlite3 *db, const char *t) {\n'
               '  char q[99]; snprintf(q, sizeof q,\n'
               '      "DELETE FROM %s", t);\n'
               '  return sqlite3_exec(db,\n  q, 0, 0, 0);\n}\n',
    "asp.c": 'void f(char **o, int n) { asprintf(o, "UPDATE t SET n=%d", n); }\n',
}
CLEAN = {
    "ok.c": 'static const char *const sql[] = {"SELECT 1"};\n'
            '/* snprintf(b, 9, "SELECT %s") in a comment is fine */\n'
            'int f(sqlite3 *db, sqlite3_stmt **st, char *b) {\n'
            '  snprintf(b, 9, "select %d", 1);\n'
            '  sqlite3_exec(db, "BEGIN" " IMMEDIATE", 0, 0, 0);\n'
            '  return sqlite3_prepare_v3(db, sql[0], -1, 0, st, 0);\n}\n',
}


def self_test():
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "src"))
        for name, body in list(PLANTED.items()) + list(CLEAN.items()):
            with open(os.path.join(d, "src", name), "w") as f:
                f.write(body)
        found = check_tree(d, ["src"])
    bad = []
    for name in PLANTED:
        hits = [p for p in found if p.startswith("src/" + name + ":")]
        if not hits:
            bad.append("planted %s was not caught" % name)
    expect = {"split.c": 2}
    for name, n in expect.items():
        if len([p for p in found if p.startswith("src/" + name)]) != n:
            bad.append("%s: expected %d findings" % (name, n))
    bad += ["clean example flagged: " + p for p in found
            if p.startswith("src/ok.c")]
    for b in bad:
        print("check-sql self-test: " + b)
    if not bad:
        print("check-sql self-test: %d planted examples caught, clean "
              "example passed" % len(PLANTED))
    return 1 if bad else 0


def main():
    if "--self-test" in sys.argv[1:]:
        return self_test()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems = check_tree(root, SCAN_DIRS)
    for p in problems:
        print(p)
    if problems:
        print("check-sql: %d place(s) build SQL from strings" % len(problems))
        return 1
    print("check-sql: no SQL built by string formatting")
    return 0


if __name__ == "__main__":
    sys.exit(main())
