#!/usr/bin/env python3
"""ui_rows.py DOM.html: the table rows of a page a browser dumped.

Prints one JSON object a line per element with role="row" that has at least
one cell, in document order:

  {"id": its row-id attribute or null,
   "cells": {column: text},   column from the cell's col-id attribute (an
                              ag-grid) or its style's var(--col-NAME-size)
                              (a TanStack table), else its position;
                              text: the cell's text, blanks collapsed
   "titles": [...],           the title and aria-label attributes inside
   "links": [{"href", "text"}]}

An ag-grid draws one row in several containers (pinned columns, the rest):
rows with the same row-id are merged into one.  Only the standard library:
it runs with any python3.
"""
import html.parser
import json
import re
import sys

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "param", "source", "track", "wbr"}
COL_VAR = re.compile(r"var\(--col-(.+?)-size\)")


class Rows(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []     # (tag, what it opened: "row", "cell", "a" or None)
        self.rows = []
        self.row = None     # the row being read
        self.cell = None    # [column, [text...]]
        self.link = None    # {"href", "text": [...]}
        self.skip = 0       # inside <style> or <script>

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        opened = None
        if tag in ("style", "script"):
            self.skip += 1
            opened = "skip"
        elif a.get("role") == "row" and self.row is None:
            self.row = {"id": a.get("row-id"), "cells": {}, "titles": [], "links": []}
            opened = "row"
        elif self.row is not None:
            if a.get("role") in ("cell", "gridcell") and self.cell is None:
                m = COL_VAR.search(a.get("style") or "")
                col = a.get("col-id") or (m.group(1) if m else str(len(self.row["cells"])))
                self.cell = [col, []]
                opened = "cell"
            for k in ("title", "aria-label"):
                if a.get(k):
                    self.row["titles"].append(a[k])
            if tag == "a" and a.get("href") and self.link is None:
                self.link = {"href": a["href"], "text": []}
                opened = "a"
        if tag not in VOID:
            self.stack.append((tag, opened))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        # Pops to the matching tag (the dump is well formed; this is a guard).
        while self.stack:
            t, opened = self.stack.pop()
            self.closed(opened)
            if t == tag:
                break

    def closed(self, opened):
        if opened == "skip":
            self.skip -= 1
        elif opened == "a":
            self.row["links"].append({"href": self.link["href"], "text": squash(self.link["text"])})
            self.link = None
        elif opened == "cell":
            self.row["cells"][self.cell[0]] = squash(self.cell[1])
            self.cell = None
        elif opened == "row":
            if self.row["cells"]:
                self.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.skip:
            return
        if self.cell is not None:
            self.cell[1].append(data)
        if self.link is not None:
            self.link["text"].append(data)


def squash(parts):
    return " ".join("".join(parts).split())


def merged(rows):
    out, by_id = [], {}
    for r in rows:
        first = by_id.get(r["id"]) if r["id"] is not None else None
        if first is None:
            out.append(r)
            if r["id"] is not None:
                by_id[r["id"]] = r
            continue
        first["cells"].update(r["cells"])
        first["titles"] += r["titles"]
        first["links"] += r["links"]
    return out


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: ui_rows.py DOM.html\n")
        return 2
    p = Rows()
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        p.feed(f.read())
    p.close()
    for r in merged(p.rows):
        print(json.dumps(r, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
