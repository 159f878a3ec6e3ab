#!/usr/bin/env bash
# The hello demo: builds the example's images offline, brings the stack up
# detached, calls it over HTTP, shows ps and logs, takes it down and up again
# to show the named volume keeps its data, and finally removes everything.
# Usage: demo.sh BERTH_BINARY   (as root)
set -euo pipefail
berth=$1
if [ "$(id -u)" != 0 ]; then
	echo "make demo runs real containers and needs root: sudo make demo" >&2
	exit 1
fi
cd "$(dirname "$0")"
port=${HELLO_PORT:-8080}
export HELLO_PORT=$port

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
call() { curl -fsS --retry 30 --retry-connrefused --retry-delay 1 --max-time 5 "http://127.0.0.1:$port/"; }
trap '"$berth" down -v >/dev/null 2>&1 || true' EXIT

step ./build-images.sh "$berth"
step "$berth" up -d
step "$berth" ps
printf '\n\033[1m$ curl http://127.0.0.1:%s/  (three times)\033[0m\n' "$port"
call; call; call
step "$berth" logs --tail 3
step "$berth" plan
step "$berth" down
step "$berth" up -d
printf '\n\033[1m$ curl http://127.0.0.1:%s/  (the count survived down/up in the named volume)\033[0m\n' "$port"
call
step "$berth" down -v
trap - EXIT
