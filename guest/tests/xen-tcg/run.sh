#!/bin/bash
# xen-netaccel smoke test in a real Xen PV guest under QEMU TCG; see README.md.
# Usage: RECIPE=<xen-under-tcg recipe dir> S=<its work dir> run.sh lifecycle|fastpath
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TEST=${1:-lifecycle}
: "${RECIPE:?set RECIPE to the xen-under-tcg recipe directory}"
: "${S:?set S to the work directory prepared by the recipe setup.sh}"
TOP=${TOP:-$HERE/../../..}
gcc -O2 -Wall -I"$TOP/include" -o "$S/xna-minibe" "$HERE/xna-minibe.c" \
    -lxenstore -lxengnttab -lxenevtchn || exit 2
gcc -O2 -Wall -static -o "$S/udpecho" "$HERE/udpecho.c" || exit 2
TEST=$TEST S=$S RECIPE=$RECIPE bash "$HERE/build.sh" > "$S/build-$TEST.log" 2>&1 ||
    { echo "build failed: $S/build-$TEST.log"; exit 2; }
export LOG=$S/run-$TEST.log
S=$S bash "$RECIPE/run.sh" "${TIMEOUT:-900}" "nodomu nodev" > "$S/run-$TEST.out" 2>&1
grep -E 'CHECK|xen-e2e:' "$S/run-$TEST.out"
st=$(grep -o 'Exit status: [0-9]*' "$LOG.time" 2>/dev/null | awk '{print $3}')
[ "$st" = 33 ] && { echo "SMOKE PASS ($TEST)"; exit 0; }
echo "SMOKE FAIL ($TEST): qemu exit ${st:-unknown}; full log $S/run-$TEST.out"
exit 1
