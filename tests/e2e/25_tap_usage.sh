# Mistakes and refusals: exit 2 for a bad option, no COMMAND, a DIR that
# does not exist and a program that cannot be tapped (statically linked);
# the command's own status otherwise (127 when it cannot be run); exit 1
# when the journal cannot be written.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

expect_status 2 cdp-tap --bogus -- true
expect_status 2 cdp-tap -o j.cdpj
expect_status 2 cdp-tap -C nowhere -o j.cdpj -- true
expect_status 2 cdp-tap --heartbeat -1 -o j.cdpj -- true
expect_status 2 cdp-tap -o j.cdpj -- /sbin/ldconfig
expect_status 3 cdp-tap -o j.cdpj -- sh -c 'exit 3'
expect_status 127 cdp-tap -o j.cdpj -- no-such-command-here
expect_status 1 cdp-tap -o /dev/full -- true
