#!/usr/bin/env python3
"""cov_cells.py - the fault coverage matrix over several runs' reports (docs/coverage.md).

    python3 tools/cov_cells.py R1/coverage.json R2/coverage.json

A cell is (effect, op, engine job).  The (op, job) pairs counted are those a fault hit in any of
the reports (a pair no fault ever hit is invisible in coverage.json, which counts hits only);
each pair has the effects that apply to its op (corrupt: get only; stale: get, head, list;
partial: not on head, list, list-uploads; the broker's requests to the controller, rpc-*: timeout,
lost, stall, delay and error, their job being the request's sender; their reachable pairs are
counted even when no fault hit them, RPC_PAIRS).  Prints the cells hit and, per pair, the effects
not hit yet.
"""
import json
import sys

EFFECTS = ["status", "timeout", "lost", "stall", "delay", "partial", "reset"]


RPC_EFFECTS = ["timeout", "lost", "stall", "delay", "error"]
# Who sends each request (docs/controller.md "RPC faults"); the cleaner and the reader send none.
RPC_PAIRS = [(op, job) for op in ("rpc-prepare", "rpc-commit-sso")
             for job in ("wal-upload", "sso-compaction", "force-split")] + [
    ("rpc-prepare", "stream-compaction"), ("rpc-commit-stream", "stream-compaction"),
    ("rpc-trim", "other"), ("rpc-delete-stream", "other")]


def effects(op):
    if op.startswith("rpc-"):
        return RPC_EFFECTS
    if op == "get":
        return EFFECTS + ["stale", "corrupt"]
    if op in ("head", "list"):
        return [e for e in EFFECTS if e != "partial"] + ["stale"]
    if op == "list-uploads":
        return [e for e in EFFECTS if e != "partial"]
    return EFFECTS


def main(paths):
    hit = set()
    rpc = False
    for p in paths:
        with open(p) as f:
            d = json.load(f)
        rpc = rpc or "rpc-prepare" in d.get("ops", [])
        for eff, ops in d["matrix"].items():
            for op, cell in ops.items():
                for job, n in cell["by_job"].items():
                    if n > 0:
                        hit.add((eff, op, job))
    pairs = sorted(set((op, job) for _, op, job in hit) | set(RPC_PAIRS if rpc else []))
    total = sum(len(effects(op)) for op, _ in pairs)
    nhit = sum(1 for op, job in pairs for e in effects(op) if (e, op, job) in hit)
    print("%d (op, job) pairs, %d cells, %d hit, %d not hit" % (len(pairs), total, nhit,
                                                                 total - nhit))
    for op, job in pairs:
        miss = [e for e in effects(op) if (e, op, job) not in hit]
        if miss:
            print("  %s / %s: %s" % (op, job, ", ".join(miss)))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__.strip())
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
