#!/bin/sh
# skip-reasons.sh - after ctest: prints why each skipped test was skipped.
# ctest shows a skipped test (exit 77, SKIP_RETURN_CODE) as "***Skipped" but
# never its output; the tests print their reason as a "SKIP: ..." line, which
# ctest keeps in LastTest.log.  Usage: scripts/skip-reasons.sh [BUILD_DIR]
log="${1:-build}/Testing/Temporary/LastTest.log"
[ -f "$log" ] || exit 0
awk '/^[0-9]+\/[0-9]+ Testing: / { name = $3 }
     /^(SKIP|skipped|SKIPPED)[: ]/ { printf "skipped %s: %s\n", name, $0; n++ }
     END { if (n) printf "%d skipped test%s (reasons above)\n", n, n == 1 ? "" : "s" }' "$log"
