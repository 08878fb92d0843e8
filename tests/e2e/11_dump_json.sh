# cdp-dump --json: one valid JSON object per record, keys in the documented
# order, every decoded field present, and the same records as the text.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mkjournal() { "$CDP_ROOT/tests/helpers/mkjournal" "$@"; }

+ mkjournal basic j.cdpj
+ cdp-dump --json j.cdpj >j.json
+ cdp-dump j.cdpj >j.txt

# Every line parses on its own, the common keys come first, and the
# decoded fields agree with the text dump.
python3 - j.json j.txt <<'PY'
import json, sys

common = ["seq", "time", "time_ns", "type", "type_code", "record_offset",
          "record_len", "compressed", "stored_len", "raw_len"]
recs = []
with open(sys.argv[1], "rb") as f:
    for n, line in enumerate(f, 1):
        assert line.endswith(b"\n"), "line %d: no newline" % n
        o = json.loads(line)
        assert list(o)[:len(common)] == common, "line %d: keys %s" % (n, list(o))
        recs.append(o)
text = open(sys.argv[2]).read().splitlines()
assert len(recs) == len(text), "%d objects, %d lines" % (len(recs), len(text))

off = 0
for o, t in zip(recs, text):
    assert o["record_offset"] == off, o
    off += o["record_len"]
    assert o["record_len"] % 8 == 0 and o["record_len"] >= 48 + o["stored_len"]
    seq = t.split()[0]
    assert seq == ("-" if o["seq"] == 0 else str(o["seq"])), (o, t)
    assert t.split()[1] == o["time"] and t.split()[2] == o["type"], (o, t)
    assert o["time_ns"] % 1000000 == 123456789 % 1000000

by = {}
for o in recs:
    by.setdefault(o["type"], []).append(o)
assert by["STREAM_HDR"][0]["uuid"] == "0cd90000-0000-4000-8000-000000000001"
assert by["STREAM_HDR"][0]["source"] == "mkjournal:basic"
assert by["STREAM_HDR"][0]["version"] == 1
assert by["STREAM_END"][0]["last_seq"] == 26
w = by["WRITE"][0]
assert (w["offset"], w["length"], w["path"]) == (0, 13, "d/f"), w
assert "data_hex" not in w
assert by["MKDIR"][0]["mode"] == 0o755
a = by["SETATTR"][1]
assert a["valid"] == 31 and a["mode"] == 0o4755 and a["uid"] == 1000, a
assert a["atime_ns"] == -1 and a["atime"] == "1969-12-31T23:59:59.999999999Z"
assert "uid" not in by["SETATTR"][0]
assert by["LINK"][0]["existing"] == "d/f" and by["LINK"][0]["path"] == "d/h"
r = by["RENAME"]
assert [x["flags"] for x in r] == [0, 1, 2]
assert (r[0]["from"], r[0]["to"]) == ("d/h", "d/g")
assert by["SYMLINK"][0]["target"] == "f"
assert by["FSYNC"][1]["path"] == "" and by["FSYNC"][0]["flags"] == 1
assert by["MARK"][0]["name"] == "before cleanup"
f = by["FALLOCATE"][0]
assert (f["mode"], f["offset"], f["length"]) == (1, 0, 8192), f
assert by["SETXATTR"][0]["length"] == 7
assert by["TRUNCATE"][0]["size"] == 100
PY

# The whole output is pinned too, so a change to it is seen.
cat j.json
