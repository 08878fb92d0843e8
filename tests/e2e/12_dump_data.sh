# cdp-dump --data: the first 32 bytes of WRITE data and SETXATTR values,
# printable ASCII as is, every other byte (and '"') as \xNN, "..." when
# there is more; in JSON, the same bytes as data_hex.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mkjournal() { "$CDP_ROOT/tests/helpers/mkjournal" "$@"; }

+ mkjournal basic j.cdpj
+ cdp-dump --data j.cdpj >text
grep -E ' (WRITE|SETXATTR) ' text

+ cdp-dump --json --data j.cdpj >json
python3 - json <<'PY'
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["type"] in ("WRITE", "SETXATTR"):
        print(o["seq"], o["length"], o["data_hex"])
    else:
        assert "data_hex" not in o, o
PY
