# Hostile names (control characters, a newline, escape sequences, invalid
# UTF-8, quotes, backslashes) cannot break a line or reach the terminal:
# text output escapes them as \xNN, JSON output stays valid JSON.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mkjournal() { "$CDP_ROOT/tests/helpers/mkjournal" "$@"; }

+ mkjournal hostile h.cdpj
+ cdp-dump h.cdpj >h.txt
+ cdp-dump --json h.cdpj >h.json

python3 - h.txt h.json <<'PY'
import json, sys
text = open(sys.argv[1], "rb").read()
lines = text.split(b"\n")[:-1]
assert len(lines) == 12, len(lines)
for l in lines:
    bad = [c for c in l if c < 0x20 or c == 0x7f]
    assert not bad, l
    l.decode("utf-8")                   # valid UTF-8, C1 controls escaped
    assert b"\xc2\x9b" not in l, l
paths = []
for line in open(sys.argv[2], "rb"):
    o = json.loads(line)
    paths.append(o.get("path") or o.get("from") or o.get("name") or o.get("source"))
assert paths[1] == "new\nline", paths
assert paths[2] == "esc\x1b[31mred", paths
assert paths[3] == 'back\\slash "quoted"', paths
assert paths[4] == "latin1-\xe9t\xe9", paths          # bytes as Latin-1
assert paths[5] == "utf8-\u00e9t\u00e9-\u20ac", paths  # real UTF-8 as is
assert paths[6] == "c1-\x9b31m", paths
assert paths[9] == 'mark \xff"name\\', paths
assert paths[10] == "new\nline", paths
PY
+ cdp-dump --data h.cdpj >>h.txt
python3 - h.txt <<'PY'
import sys
for l in open(sys.argv[1], "rb").read().split(b"\n")[:-1]:
    assert not [c for c in l if c < 0x20 or c == 0x7f], l
PY
cat h.txt h.json
