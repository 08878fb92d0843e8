# A JOURNAL that cannot be opened is reported as "cdp-dump: NAME: why";
# the other operands are still dumped, and the exit status is 1.  A
# directory that is no store and a pcap file of another link type are
# named as such, not as "Invalid argument".
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mkjournal() { "$CDP_ROOT/tests/helpers/mkjournal" "$@"; }

+ mkjournal two two.cdpj
mkdir notastore
# A classic pcap header, nanosecond magic, LINKTYPE_ETHERNET (1).
printf '\115\074\262\241\002\000\004\000\000\000\000\000\000\000\000\000\000\000\004\000\001\000\000\000' > ether.pcap
+ cdp-dump nope.cdpj notastore ether.pcap two.cdpj
