# cdp-dump's text output for a journal holding every record type of format
# version 1: the layout documented in cdp-dump(1), byte for byte.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mkjournal() { "$CDP_ROOT/tests/helpers/mkjournal" "$@"; }

+ mkjournal basic j.cdpj
+ cdp-dump j.cdpj
