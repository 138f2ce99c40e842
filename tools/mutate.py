#!/usr/bin/env python3
"""mutate.py - mutation testing of the engine: how many seeded bugs the bench catches.

Draws N mutation sites in src/ with a seed (the HTTP client src/s3_curl*, SigV4 and the
real-time environment are left out: no simulated run reaches them), builds each mutant in one
scratch copy of the tree (Release, incrementally: one file changes per mutant), runs the scenario
suite with `s3sim run` and, for the mutants it does not kill, the unit tests; a run that takes
longer than --timeout has its whole process group killed and counts as a kill (a hang is a
caught bug).  Mutants that do not build are drawn again and counted apart, never as kills.
With --asan the survivors are run again under ASan + UBSan (leaks and overflows kill too).

    python3 tools/mutate.py --seed 1 --n 60            # or: cmake --build build --target mutate

Prints each mutant as it goes, then the scores and every survivor with its site.  Exit 0.
Not part of CI: 60 mutants take tens of minutes on two cores.
"""
import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXCLUDE = re.compile(r"^(s3_curl.*|sigv4\.c|env_real\.c)$")


def suite(tree):
    """The scenario suite: every directory of scenarios/ that ctest runs (all but bench/)."""
    d = os.path.join(tree, "scenarios")
    return ["scenarios/" + n for n in sorted(os.listdir(d))
            if n != "bench" and os.path.isdir(os.path.join(d, n))]

# ---- sites --------------------------------------------------------------------------------

REL = [("<=", "<"), (">=", ">"), ("==", "!="), ("!=", "=="), ("<", "<="), (">", ">=")]


def code_spans(line):
    """Indices of line outside string/char literals and // comments."""
    out, i, q = [], 0, None
    while i < len(line):
        c = line[i]
        if q:
            if c == "\\":
                i += 2
                continue
            if c == q:
                q = None
        elif c in "\"'":
            q = c
        elif line.startswith("//", i) or line.startswith("/*", i):
            break
        else:
            out.append(i)
        i += 1
    return set(out)


def sites_of(path, rel):
    """Every mutation site of one file: (rel, lineno, kind, col, old, new)."""
    sites = []
    in_comment = False
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, 1):
        s = line.strip()
        if in_comment:
            if "*/" in s:
                in_comment = False
            continue
        if s.startswith("/*") and "*/" not in s:
            in_comment = True
            continue
        if not s or s.startswith(("#", "*", "/*", "//")):
            continue
        code = code_spans(line)
        # relational operators (not ->, <<, >>, <=/>= handled first)
        for m in re.finditer(r"<=|>=|==|!=|(?<![<>\-])<(?![<=])|(?<![<>\-])>(?![>=])", line):
            if m.start() not in code:
                continue
            op = m.group(0)
            if op in ("<", ">") and re.search(r"#include|\w+\s*<\s*\w+\s*>", line):
                continue
            new = dict(REL)[op]
            sites.append((rel, n, "rel", m.start(), op, new))
        for m in re.finditer(r"&&|\|\|", line):
            if m.start() in code:
                sites.append((rel, n, "logic", m.start(), m.group(0),
                              "||" if m.group(0) == "&&" else "&&"))
        # negate an if/while condition
        m = re.match(r"^(\s*(?:\}\s*else\s+)?(?:if|while)\s*)\((.*)\)(\s*\{?\s*)$", line)
        if m and m.group(2).count("(") == m.group(2).count(")"):
            sites.append((rel, n, "negate", len(m.group(1)), "(" + m.group(2) + ")",
                          "(!(" + m.group(2) + "))"))
        # drop a call statement
        if re.match(r"^\s+[a-z_][a-z0-9_]*(->\w+|\.\w+)*\s*\(.*\);\s*$", line) and \
                not re.match(r"^\s+(return|if|while|for|switch|sizeof)\b", line) and \
                line.count("(") == line.count(")"):
            sites.append((rel, n, "drop", 0, line, "    ;/* mutant: call dropped */"))
        # return value of a boolean or status
        m = re.match(r"^(\s*return\s+)(true|false|0|-1|1)(;\s*)$", line)
        if m:
            new = {"true": "false", "false": "true", "0": "1", "1": "0", "-1": "0"}[m.group(2)]
            sites.append((rel, n, "return", len(m.group(1)), m.group(2), new))
        # off by one in arithmetic
        for m in re.finditer(r" \+ 1\b| - 1\b", line):
            if m.start() in code:
                sites.append((rel, n, "arith", m.start(), m.group(0),
                              " - 1" if "+" in m.group(0) else " + 1"))
    return sites


def all_sites(src):
    out = []
    for name in sorted(os.listdir(src)):
        if name.endswith(".c") and not EXCLUDE.match(name):
            out += sites_of(os.path.join(src, name), "src/" + name)
    return out


def apply(text, site):
    rel, n, kind, col, old, new = site
    lines = text.split("\n")
    line = lines[n - 1]
    if kind == "drop":
        lines[n - 1] = new
    else:
        assert line[col:col + len(old)] == old, (site, line)
        lines[n - 1] = line[:col] + new + line[col + len(old):]
    return "\n".join(lines)


def describe(site):
    rel, n, kind, col, old, new = site
    if kind == "drop":
        return "%s:%d %s: %s" % (rel, n, kind, old.strip())
    return "%s:%d:%d %s: %s -> %s" % (rel, n, col + 1, kind, old, new)

# ---- running ------------------------------------------------------------------------------


def run(cmd, cwd, timeout, log=None):
    """Runs cmd in its own process group; returns (rc, output); rc None on a timeout (the
    whole group is killed)."""
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True, text=True, errors="replace")
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        return None, out


def first_fail(out):
    for line in out.split("\n"):
        if line.startswith(("FAIL ", "ERROR ")):
            return line[:200]
    return out.strip().split("\n")[-1][:200] if out.strip() else ""


def scenarios(tree, bindir, jobs, timeout):
    """Runs the suite a directory at a time, stopping at the first that fails.  Returns None
    when everything passed, else what killed the mutant."""
    s3sim = os.path.join(bindir, "s3sim")
    for d in suite(tree):
        rc, out = run([s3sim, "run", d, "--quiet", "--jobs", str(jobs)], tree, timeout)
        if rc is None:
            return "%s: timed out after %ds (process group killed)" % (d, timeout)
        if rc != 0:
            return "%s: exit %d: %s" % (d, rc, first_fail(out))
    return None


def units(tree, build, jobs, timeout):
    rc, out = run(["ctest", "--test-dir", build, "-R", "^unit/", "-j", str(jobs),
                   "--timeout", str(timeout)], tree, timeout * 4)
    if rc is None:
        return "unit tests timed out (process group killed)"
    if rc != 0:
        failed = [l.strip() for l in out.split("\n") if "***" in l or "(Failed)" in l]
        return "unit: " + (", ".join(failed)[:200] or "failed")
    return None


def build(build_dir, targets, timeout):
    rc, out = run(["cmake", "--build", build_dir, "-j", "2", "--target"] + targets, None,
                  timeout)
    return rc == 0


def mutated(tree, site):
    """Context: the tree with one site mutated, restored (and its mtime bumped) on exit."""
    class M:
        def __enter__(self):
            self.path = os.path.join(tree, site[0])
            with open(self.path, encoding="utf-8") as f:
                self.orig = f.read()
            with open(self.path, "w", encoding="utf-8") as f:
                f.write(apply(self.orig, site))

        def __exit__(self, *exc):
            with open(self.path, "w", encoding="utf-8") as f:
                f.write(self.orig)
            os.utime(self.path)
    return M()


def asan_pass(tree, scratch, results, a):
    """Runs the scenario suite with the ASan + UBSan build (the `asan` preset's flags) for the
    mutants that survived the Release pass: a leak (LeakSanitizer at exit), a memory error or
    undefined behaviour under any scenario kills the mutant (verdict "asan").  The unmutated
    tree is run first: if it is not clean under ASan, the pass is skipped (no false kills)."""
    survivors = [k for k, r in enumerate(results) if r[1] == "survived"]
    if not survivors:
        return
    adir = os.path.join(scratch, "build-asan")
    rc, out = run(["cmake", "-S", tree, "-B", adir, "-DCMAKE_BUILD_TYPE=Debug",
                   "-DS3SIM_SANITIZE=ON"], None, 600)
    abin = os.path.join(adir, "bin")
    if rc != 0 or not build(adir, ["s3sim"], 3600):
        print("mutate: the ASan build of the unmutated tree failed; ASan pass skipped")
        return
    t = a.timeout * a.asan_slowdown
    base = scenarios(tree, abin, a.jobs, t)
    if base:
        print("mutate: the unmutated tree fails under ASan; ASan pass skipped: " + base)
        return
    print("mutate: ASan pass over %d survivors (budget %ds)" % (len(survivors), a.asan_budget),
          flush=True)
    t0 = time.time()
    for k in survivors:
        site = results[k][0]
        if time.time() - t0 > a.asan_budget:
            results[k] = (site, "survived", "not judged under ASan (--asan-budget spent)")
            print("  asan skipped  %s (budget spent)" % describe(site), flush=True)
            continue
        with mutated(tree, site):
            if not build(adir, ["s3sim"], 1800):
                continue
            why = scenarios(tree, abin, a.jobs, t)
        if why:
            results[k] = (site, "asan", why)
        print("  asan %-9s %s%s" % ("kills" if why else "SURVIVED", describe(site),
                                     ("\n         " + why) if why else ""), flush=True)
    build(adir, ["s3sim"], 1800)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=60, help="mutants that build (default 60)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=300, help="seconds per suite directory")
    ap.add_argument("--scratch", default=None, help="scratch dir (default /tmp/s3sim-mutate)")
    ap.add_argument("--asan", action="store_true",
                    help="run the Release survivors again with the ASan build")
    ap.add_argument("--asan-slowdown", type=int, default=4,
                    help="timeout factor of the ASan pass (default 4)")
    ap.add_argument("--asan-budget", type=int, default=3600,
                    help="seconds the ASan pass may take; survivors left then are reported "
                    "as not judged under ASan (default 3600)")
    ap.add_argument("--asan-only", action="store_true",
                    help="with --only: judge the given sites with the ASan pass alone (they are "
                    "taken as Release survivors, e.g. from an earlier run's list)")
    ap.add_argument("--no-units", action="store_true", help="scenarios only")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the check that the unmutated tree passes (only when another run "
                    "of the same tree checked it: a split draw)")
    ap.add_argument("--list", action="store_true", help="print the drawn sites and stop")
    ap.add_argument("--only", action="append", default=[], metavar="SITE",
                    help="run only the sites whose description starts with SITE (as printed, "
                    "e.g. 'src/wal.c:212 drop' or 'src/cln.c:551:13'); repeatable; "
                    "--seed and --n are then ignored")
    a = ap.parse_args()

    scratch = a.scratch or "/tmp/s3sim-mutate"
    tree = os.path.join(scratch, "tree")
    bdir = os.path.join(scratch, "build")
    sites = all_sites(os.path.join(ROOT, "src"))
    order = list(range(len(sites)))
    random.Random(a.seed).shuffle(order)
    if a.only:
        order = [i for i in range(len(sites))
                 if any(describe(sites[i]).startswith(o) for o in a.only)]
        a.n = len(order)
    if a.list:
        for i in order[:a.n]:
            print(describe(sites[i]))
        return 0
    if a.only:
        print("mutate: %d sites of --only" % len(order), flush=True)
    else:
        print("mutate: seed %d, %d sites in src/, drawing until %d mutants build" %
              (a.seed, len(sites), a.n), flush=True)

    if os.path.isdir(tree):
        shutil.rmtree(tree)
    os.makedirs(tree)
    os.rmdir(tree)
    # The whole worktree but its build directories, git data and reports.
    shutil.copytree(ROOT, tree, symlinks=True,
                    ignore=shutil.ignore_patterns("build", "build-*", ".git", "reports"))
    # copytree keeps the sources' times: a scratch build directory left by a run over another
    # tree would take its objects for up to date.  Every file is newer than any object now.
    now = time.time()
    for d, _, files in os.walk(tree):
        for f in files:
            if not os.path.islink(os.path.join(d, f)):
                os.utime(os.path.join(d, f), (now, now))
    if a.asan_only:
        if not a.only:
            print("mutate: --asan-only needs --only")
            return 2
        results = [(sites[i], "survived", "") for i in order]
        t0 = time.time()
        asan_pass(tree, scratch, results, a)
        return report(a, results, 0, t0)
    rc, out = run(["cmake", "-S", tree, "-B", bdir, "-DCMAKE_BUILD_TYPE=Release"], None, 600)
    if rc != 0 or not build(bdir, ["all"], 1800):
        print("mutate: the unmutated tree does not build:\n" + out[-2000:])
        return 2
    bindir = os.path.join(bdir, "bin")
    base = None if a.no_baseline else scenarios(tree, bindir, a.jobs, a.timeout)
    if not base and not a.no_units and not a.no_baseline:
        base = units(tree, bdir, a.jobs, a.timeout)
    if base:
        print("mutate: the unmutated tree fails; fix that first: " + base)
        return 2

    results = []  # (site, verdict, detail)
    nobuild = 0
    t0 = time.time()
    for i in order:
        if len(results) >= a.n:
            break
        site = sites[i]
        with mutated(tree, site):
            if not build(bdir, ["s3sim"], 900):
                nobuild += 1
                print("  [--] does not build: %s" % describe(site), flush=True)
                continue
            why = scenarios(tree, bindir, a.jobs, a.timeout)
            verdict = "scenario" if why else None
            if not why and not a.no_units:
                if build(bdir, ["all"], 1800):
                    why = units(tree, bdir, a.jobs, a.timeout)
                    verdict = "unit" if why else None
        results.append((site, verdict or "survived", why or ""))
        print("  [%2d] %-9s %s%s" % (len(results), verdict or "SURVIVED", describe(site),
                                    ("\n         " + why) if why else ""), flush=True)
    build(bdir, ["all"], 1800)  # leave the scratch build unmutated

    if a.asan:
        asan_pass(tree, scratch, results, a)

    return report(a, results, nobuild, t0)


def report(a, results, nobuild, t0):
    n = len(results)
    ks = sum(1 for r in results if r[1] == "scenario")
    ku = sum(1 for r in results if r[1] == "unit")
    ka = sum(1 for r in results if r[1] == "asan")
    what = "--only" if a.only else "seed %d" % a.seed
    print("\nmutate: %s: %d mutants built (%d did not build, not counted), %.0f s" %
          (what, n, nobuild, time.time() - t0))
    if n:
        print("  scenario suite kills %d/%d = %.0f%% (target >= 80%%)" % (ks, n, 100.0 * ks / n))
        print("  scenarios + unit tests kill %d/%d = %.0f%% (target >= 90%%)" %
              (ks + ku, n, 100.0 * (ks + ku) / n))
        if a.asan or a.asan_only:
            print("  + the ASan pass kills %d more: %d/%d = %.0f%%" %
                  (ka, ks + ku + ka, n, 100.0 * (ks + ku + ka) / n))
    surv = [r for r in results if r[1] == "survived"]
    print("survivors (%d):" % len(surv))
    for site, _, why in surv:
        print("  " + describe(site) + (" (%s)" % why if why else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
