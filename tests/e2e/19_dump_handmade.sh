# A journal written by an independent writer made from cdp-journal(5)
# alone (tests/e2e/data/handmade.py) dumps cleanly: exit 0, nothing on
# stderr, every record shown, the same through a pcap file.
set -eu

[ -f "$CDP_TEST_DATA/handmade.py" ] || { echo "no handmade.py" >&2; exit 77; }
python3 "$CDP_TEST_DATA/handmade.py" hm.cdpj
python3 "$CDP_TEST_DATA/handmade.py" --small small.cdpj
cdp-dump --data hm.cdpj small.cdpj >hm.txt
cdp-dump --json --data hm.cdpj small.cdpj >hm.json
cdp-dump --pcap hm.pcap hm.cdpj
cdp-dump --data hm.pcap >pcap.txt
cdp-dump --data hm.cdpj | cmp - pcap.txt

python3 - hm.json <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ends = [r for r in recs if r["type"] == "STREAM_END"]
assert len(ends) == 2, ends
assert any(r["compressed"] for r in recs), "no compressed record"
PY
