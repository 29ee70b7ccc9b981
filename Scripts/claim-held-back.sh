#!/usr/bin/env bash
# Times PostgreSQL's outbox claim (`claimOutbox`, as the database's migrations installed it) with many destinations
# held back at once, as after an IM server outage: for each H, H people with 5 unsent messages each whose first is put
# off for 5 minutes, then 10 fresh messages to other people; five claims of 32 in one transaction, rolled back, and the
# median of their times. BENCHMARKS.md, "The outbox claim with many destinations held back".
#
# Usage: Scripts/claim-held-back.sh DATABASE_URL [H ...]     (default H: 250 1000 4000)
# DATABASE_URL is a database SkillRelay has migrated (e.g. after `skillrelay import --db DATABASE_URL Data`). It is
# left as it was.
set -euo pipefail
url=${1:?usage: Scripts/claim-held-back.sh DATABASE_URL [H ...]}
shift
[ $# -gt 0 ] || set -- 250 1000 4000
times=$(mktemp)
trap 'rm -f "$times"' EXIT
for held in "$@"; do
    {
        echo "BEGIN;"
        echo "INSERT INTO outbox (message, createdAt, nextAttemptAt, destination)"
        echo "    SELECT 'm', now(), CASE WHEN k = 1 THEN now() + interval '5 minutes' ELSE now() END, 'person:p' || d"
        echo "    FROM generate_series(1, 5) k, generate_series(1, $held) d ORDER BY k, d;"
        echo "INSERT INTO outbox (message, createdAt, nextAttemptAt, destination)"
        echo "    SELECT 'm', now(), now(), 'person:fresh' || d FROM generate_series(1, 10) d;"
        echo '\timing on'
        for _ in 1 2 3 4 5; do
            echo "SELECT count(*) FROM claimOutbox(42, now(), 32, '{}', '{}', now() + interval '1 minute');"
        done
        echo '\timing off'
        echo "ROLLBACK;"
    } | psql -X -q -v ON_ERROR_STOP=1 "$url" | awk '/^Time:/ { print $2 }' | sort -n > "$times"
    [ "$(wc -l < "$times")" -eq 5 ] || { echo "claim-held-back.sh: expected 5 timings" >&2; exit 1; }
    echo "$held destinations held back ($((held * 5 + 10)) unsent): median claim $(sed -n 3p "$times") ms"
done
