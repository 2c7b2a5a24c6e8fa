#!/usr/bin/env bash
# `make scan`: the external scanners (wapiti, sqlmap; Debian packages) against a locally served site configured
# like production (DEBUG=0, a fresh SQLite database with the demo data). Reports land in var/scan/; the findings
# of the last run are listed in docs/security.md. Not part of CI (it takes minutes and needs the scanners).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${SCAN_PORT:-8765}
OUT=var/scan
mkdir -p "$OUT"
rm -f "$OUT/scan.sqlite3"
for tool in wapiti sqlmap; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "--- installing $tool (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool" >/dev/null
  fi
done
export DEBUG=0 SECRET_KEY="scan-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" ALLOWED_HOSTS=127.0.0.1 \
  CSRF_TRUSTED_ORIGINS="http://127.0.0.1:$PORT" SECURE_SSL_REDIRECT=0 SECURE_HSTS_SECONDS=0 \
  DATABASE_URL="sqlite:///$PWD/$OUT/scan.sqlite3" STAFF_2FA=1
unset REDIS_URL
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo >/dev/null
.venv/bin/python manage.py collectstatic --noinput -v0
.venv/bin/python manage.py serve --host 127.0.0.1 --port "$PORT" > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
BASE="http://127.0.0.1:$PORT"
echo "--- wapiti against $BASE (report: $OUT/wapiti.txt)"
wapiti -u "$BASE/" --scope folder --flush-session -d 3 --max-links-per-page 40 --max-scan-time 600 \
  --max-attack-time 120 -m "sql,blindsql,xss,permanentxss,exec,file,crlf,redirect,ssrf,csrf,http_headers,cookieflags,methods" \
  -f txt -o "$OUT/wapiti.txt" >"$OUT/wapiti.log" 2>&1 || true
echo "--- sqlmap against the parameters a player can reach (log: $OUT/sqlmap.log)"
: > "$OUT/sqlmap.log"
for url in "$BASE/leaderboard/?period=monthly&q=goat&page=1" "$BASE/players/abc/" \
           "$BASE/api/v1/leaderboard/?period=monthly&limit=5&offset=0" "$BASE/api/v1/races/?status=live&type=monthly" \
           "$BASE/wheel/verify/?server_seed=a&client_seed=b&nonce=1" "$BASE/races/?page=1"; do
  sqlmap -u "$url" --batch --level 2 --risk 1 --threads 4 --flush-session --output-dir "$OUT/sqlmap" \
    >>"$OUT/sqlmap.log" 2>&1 || true
done
grep -hE "is vulnerable|injectable|all tested parameters do not appear to be injectable" "$OUT/sqlmap.log" \
  | sort | uniq -c | tee "$OUT/sqlmap-summary.txt"
echo "--- 5xx answers the server logged during the scans"
grep -cE '" 5[0-9][0-9] ' "$OUT/server.log" || true
echo "Reports: $OUT/wapiti.txt, $OUT/sqlmap-summary.txt, $OUT/server.log"
