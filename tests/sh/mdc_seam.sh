#!/bin/sh
# mdc_seam.sh SRC_DIR - the controller boundary (docs/controller.md): only the metadata store
# (src/meta*.c), the controller (src/ctl*.c) and the broker's metadata client (src/mdc*.c) call
# the store's functions (meta.h); the broker side (WAL upload, compactions, reader, writers)
# calls no function of the controller (ctl.h) either: it goes through the client (only the
# cleaner, the controller's own job, and eng.c, the wiring, do).
# Prints each offending line and exits 1.
src=${1:?usage: mdc_seam.sh SRC_DIR}/src
bad=0
# meta.h's helpers that read no store are allowed everywhere.
allowed='meta_ok|meta_key_kind_name|meta_state_name'
for f in "$src"/*.c; do
    case $(basename "$f") in meta*.c|ctl*.c|mdc*.c) continue ;; esac
    hits=$(grep -nE '\bmeta_[a-z_]+\(' "$f" | grep -vE "\b($allowed)\(" |
           grep -vE '^[0-9]+:\s*(/?\*|//)')
    if [ -n "$hits" ]; then
        echo "$f calls the metadata store directly (go through mdc.h or ctl.h):"
        echo "$hits"
        bad=1
    fi
done
# Only the controller's own jobs (the object cleaner, cln*.c), the engine's wiring (eng.c) and
# the metadata client call the controller: every other file (the broker side, new ones too).
for f in "$src"/*.c; do
    case $(basename "$f") in ctl*.c|mdc*.c|cln*.c|eng.c) continue ;; esac
    hits=$(grep -nE '\bctl_[a-z_]+\(' "$f" | grep -vE '^[0-9]+:\s*(/?\*|//)')
    if [ -n "$hits" ]; then
        echo "$f (broker side) calls the controller directly (go through mdc.h):"
        echo "$hits"
        bad=1
    fi
done
[ $bad -eq 0 ] && echo "seam ok: no engine file outside meta*/ctl*/mdc* calls the store"
exit $bad
