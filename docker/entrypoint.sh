#!/bin/sh
# Container start: migrate our tables, seed the embedded demo if asked, run the daemon
# (or the syndicator verb given as arguments). tini (PID 1) forwards SIGTERM to the
# daemon, which `exec` makes its direct child.
set -eu
if [ $# -eq 0 ]; then
  set -- run
fi
syndicator db upgrade
if [ "${SEED_DEMO:-0}" = "1" ]; then
  syndicator demo
fi
exec syndicator "$@"
