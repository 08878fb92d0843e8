#!/bin/bash
# deps.sh: install the Debian 12 packages that cdp's build and tests need.
#
# Installs only what is missing, runs apt-get update at most once, and says
# one line when there is nothing to do.  Not root and something missing:
# prints the apt-get command to run and exits 1.
#
# This is the one list.  When a test or a script starts using a new tool,
# add its package to the right group below, with what uses it.
set -eu

pkgs=(
	# build: compiler, make, and the libraries the Makefile asks pkg-config for
	gcc make pkg-config
	libpopt-dev libarchive-dev zlib1g-dev libdeflate-dev libpcap-dev libxxhash-dev
	check			# unit tests (tests/unit/check_*.c)
	libfuse3-dev fuse3	# cdp-tap --fuse; fuse3 gives fusermount3
	libcurl4-openssl-dev

	# lint: make lint, tests/e2e/01_options_documented.sh
	mandoc			# mandoc -Tlint, makewhatis
	shellcheck
	bsdextrautils		# col (01_options_documented), hexdump

	# tools the tests, fuzzing, benchmarks and the demo run
	clang libclang-rt-14-dev	# make asan, make fuzz (libFuzzer, ASan, UBSan)
	python3			# e2e runner glob matcher, lib.sh, handmade.py, fuzz seeds
	openssh-server openssh-client	# start_sshd in tests/e2e/lib.sh
	git tar			# make asan copies the tree
	coreutils		# timeout, sha256sum, od, stat, dd
	findutils		# find (02_install, 05_fuzz_corpus_replay)
	xxd			# hex views of journals
	sqlite3 rsync		# real programs run under cdp-tap (21_tap_apps, 20_tap_tools)
	fio			# bench/20_tap.sh, bench/25_tap_fuse.sh, 27_tap_fuse_apps
	bindfs			# the FUSE reference in bench/25_tap_fuse.sh
	e2fsprogs		# mkfs.ext4, debugfs, e2fsck (27_tap_fuse_apps)
	xxhash			# xxhsum, the reference of bench/40_verify.sh
	# a throwaway Ceph object store for the s3:// tests (tests/e2e/ceph_lib.sh):
	# one mon, one OSD, one radosgw (16.2 in Debian 12)
	ceph-mon ceph-osd radosgw ceph-common
	curl			# ceph_lib.sh waits for the radosgw with it
)

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $status in
	*" ok installed") ;;
	*) missing+=("$p") ;;
	esac
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi

cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; as root, run:" >&2
	echo "  apt-get update && DEBIAN_FRONTEND=noninteractive ${cmd[*]}" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
"${cmd[@]}"
echo "deps: all ${#pkgs[@]} packages present"
