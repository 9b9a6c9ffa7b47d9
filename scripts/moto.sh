#!/usr/bin/env bash
# The local AWS emulator (moto server) that the DynamoDB adapter's tests use.
#
#   scripts/moto.sh ensure        install moto into <repo>/.venv when missing
#   scripts/moto.sh start PORT    start it on 127.0.0.1:PORT, wait until it
#                                 answers, print its pid
#   scripts/moto.sh stop PID      stop a server started by `start`
#   scripts/moto.sh serve PORT    run it in the foreground (what `start` runs)
#
# `serve` is moto_server with two changes. DynamoDB requests are handled one
# at a time. moto serves requests on threads and implements a transaction by
# snapshotting the whole table and restoring the snapshot when a condition
# fails, so concurrent requests lose each other's writes and a cancelled
# transaction can leave its writes behind. DynamoDB writes and transactions
# are atomic and isolated; serialising keeps moto's answers DynamoDB's. Other
# services (SQS long polls, Step Functions) stay concurrent. And a table's
# backup before a transaction is taken once per table (not once per op) and
# copies its stream records' list, not every record (see `serve`).
set -euo pipefail

MOTO_VERSION="5.2.5" # pinned: bump deliberately, the tests rely on its behaviour
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

installed_version() {
    "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true
}

ensure() {
    if [[ -x "$VENV/bin/moto_server" && "$(installed_version)" == "$MOTO_VERSION" ]]; then
        return 0
    fi
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
    echo "installing moto[server]==$MOTO_VERSION into $VENV" >&2
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
}

serve() {
    local port="${1:?usage: moto.sh serve PORT}"
    [[ -x "$VENV/bin/moto_server" ]] || { echo "moto is not installed: run scripts/moto.sh ensure" >&2; exit 1; }
    export MOTO_PORT="$port"
    exec "$VENV/bin/python" -c '
import copy, sys, threading
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

from moto.dynamodb.models.table import StreamShard

# moto backs up a table before each transaction by deep-copying it, once per
# op, stream shard included: every stream record ever written, each holding
# its items, so the cost of a transaction and the memory of the server grew with the
# whole history (over 10 GB in one test run). Records never change once
# written: a backup needs a copy of the list, not of the records.
def _shard_deepcopy(self, memo):
    clone = StreamShard.__new__(StreamShard)
    memo[id(self)] = clone
    for name, value in self.__dict__.items():
        setattr(clone, name, list(value) if name == "items" else copy.deepcopy(value, memo))
    return clone

StreamShard.__deepcopy__ = _shard_deepcopy

# And it takes that backup once per op, not once per table: a transaction of
# 16 ops on one table copied the table 16 times. During a transaction, the
# copy module moto sees hands out one backup per table (all are taken
# before any op applies, so they are the same state).
import moto.dynamodb.models as ddb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

class _OneBackupPerTable:
    def __init__(self):
        self.backups = {}
    def deepcopy(self, x, memo=None):
        if memo is None and isinstance(x, Table):
            if id(x) not in self.backups:
                self.backups[id(x)] = copy.deepcopy(x)
            return self.backups[id(x)]
        return copy.deepcopy(x, memo)
    def __getattr__(self, name):
        return getattr(copy, name)

_transact_write_items = DynamoDBBackend.transact_write_items

def _transact_with_one_backup_per_table(self, transact_items):
    ddb_models.copy = _OneBackupPerTable()
    try:
        return _transact_write_items(self, transact_items)
    finally:
        ddb_models.copy = copy

DynamoDBBackend.transact_write_items = _transact_with_one_backup_per_table

app = DomainDispatcherApplication(create_backend_app)
app.debug = True  # as moto_server does
dynamodb = threading.Lock()

def one_dynamodb_request_at_a_time(environ, start_response):
    if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
        return app(environ, start_response)
    with dynamodb:
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            getattr(response, "close", lambda: None)()

run_simple("127.0.0.1", int(sys.argv[1]), one_dynamodb_request_at_a_time,
           threaded=True, request_handler=MotoRequestHandler)
' "$port"
}

start() {
    local port="${1:?usage: moto.sh start PORT}"
    local log="${MOTO_LOG:-$ROOT/target/moto-$port.log}"
    mkdir -p "$(dirname "$log")"
    # setsid: the server survives this shell and ignores the terminal's ^C;
    # the caller owns it and stops it with `stop PID`.
    setsid "$ROOT/scripts/moto.sh" serve "$port" >"$log" 2>&1 </dev/null &
    local pid=$!
    for _ in $(seq 1 150); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/data.json" 2>/dev/null; then
            echo "$pid"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "moto_server exited; see $log" >&2
            exit 1
        fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    echo "moto_server did not answer on port $port within 15 s; see $log" >&2
    exit 1
}

stop() {
    local pid="${1:?usage: moto.sh stop PID}"
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

case "${1:-}" in
    ensure) ensure ;;
    start) start "${2:-}" ;;
    serve) serve "${2:-}" ;;
    stop) stop "${2:-}" ;;
    *)
        echo "usage: $0 ensure | start PORT | stop PID | serve PORT" >&2
        exit 2
        ;;
esac
