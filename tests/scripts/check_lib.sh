# Sourced by the shell tests of scripts/: `check NAME EXPR` prints ok/FAIL and counts
# failures; `finish` prints the count and returns non-zero on any failure.
fails=0
check() { if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }
finish() { echo "$fails failure(s)"; [ "$fails" -eq 0 ]; }
