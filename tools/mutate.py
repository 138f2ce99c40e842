#!/usr/bin/env python3
"""mutate.py - mutation testing of the engine: how many seeded bugs the bench catches.

Draws N mutation sites in src/ with a seed (the HTTP client src/s3_curl*, SigV4 and the
real-time environment are left out: no simulated run reaches them), builds each mutant in one
scratch copy of the tree (Release, incrementally: one file changes per mutant), runs the scenario
suite with `s3sim run` and, for the mutants it does not kill, the unit tests; a run that takes
longer than --timeout has its whole process group killed and counts as a kill (a hang is a
caught bug).  Mutants that do not build are drawn again and counted apart, never as kills.
With --asan the scenario suite is Release and ASan: the mutants the Release scenarios miss run
the scenarios again under ASan + UBSan (leaks, overflows and UB kill too) before the unit tests,
and the unit tests that Release misses run again under ASan (a leak on a unit test's path kills).

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


SUITE = None  # --scenarios: the paths judged instead of the whole suite


def suite(tree):
    """The scenario suite: every directory of scenarios/ that ctest runs (all but bench/), or
    the paths of --scenarios."""
    if SUITE:
        return SUITE
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


FILES = None  # --files: fnmatch patterns over "src/NAME.c"; None = every file


def all_sites(src):
    import fnmatch
    out = []
    for name in sorted(os.listdir(src)):
        if FILES and not any(fnmatch.fnmatch("src/" + name, p) for p in FILES):
            continue
        if name.endswith(".c") and not EXCLUDE.match(name):
            out += sites_of(os.path.join(src, name), "src/" + name)
    return out


def git_tree(commit, dest):
    """Extracts src/ of commit (a git revision of this repository) into dest."""
    os.makedirs(dest, exist_ok=True)
    arch = subprocess.run(["git", "-C", ROOT, "archive", commit, "src"], check=True,
                          stdout=subprocess.PIPE).stdout
    subprocess.run(["tar", "-x", "-C", dest], input=arch, check=True)


def relocate(site, old_lines, new_lines):
    """The same mutation on today's file: the line that difflib maps the old line to (or the
    most similar line near there, at least 80 % alike), the same occurrence of the operator.
    None when the code is gone."""
    import difflib
    rel, n, kind, col, old, new = site
    line = old_lines[n - 1]
    sm = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    guess = None
    for a0, b0, size in sm.get_matching_blocks():
        if a0 <= n - 1 < a0 + size:
            guess = b0 + (n - 1 - a0)
            break
        if a0 > n - 1:
            guess = b0
            break
    if guess is None or new_lines[guess] != line:
        near = range(max(0, (guess or n - 1) - 60), min(len(new_lines), (guess or n - 1) + 60))
        best = max(near, key=lambda k: (difflib.SequenceMatcher(None, line, new_lines[k]).ratio(),
                                        -abs(k - (guess or n - 1))), default=None)
        if best is None or difflib.SequenceMatcher(None, line, new_lines[best]).ratio() < 0.8:
            return None
        guess = best
    k = guess + 1
    if kind == "drop":
        return (rel, k, kind, 0, new_lines[guess], new)
    # the same occurrence of the operator among the sites of that line
    olds = [s for s in sites_of_lines(rel, old_lines, n) if s[2] == kind and s[4] == old]
    news = [s for s in sites_of_lines(rel, new_lines, k) if s[2] == kind and s[4] == old]
    idx = [s[3] for s in olds].index(col) if col in [s[3] for s in olds] else 0
    if idx >= len(news):
        return None
    return news[idx]


def sites_of_lines(rel, lines, n):
    """The sites of line n alone (a one-line file: no comment state)."""
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as f:
        f.write(lines[n - 1])
    try:
        return [(rel, n) + s[2:] for s in sites_of(f.name, rel)]
    finally:
        os.unlink(f.name)


def draw_at(commit, seed, n, scratch):
    """Draws seed's sites on commit's src/ (so an old draw is measured again on today's tree)
    and moves each onto today's src/.  Returns ([(description on commit, site today)], notes)."""
    old = os.path.join(scratch, "draw-at")
    if os.path.isdir(old):
        shutil.rmtree(old)
    git_tree(commit, old)
    sites = all_sites(os.path.join(old, "src"))
    order = list(range(len(sites)))
    random.Random(seed).shuffle(order)
    out, notes, cache = [], [], {}
    for i in order[:n]:
        s = sites[i]
        if s[0] not in cache:
            with open(os.path.join(old, s[0]), encoding="utf-8") as f:
                ol = f.read().split("\n")
            try:
                with open(os.path.join(ROOT, s[0]), encoding="utf-8") as f:
                    nl = f.read().split("\n")
            except FileNotFoundError:
                nl = None
            cache[s[0]] = (ol, nl)
        ol, nl = cache[s[0]]
        t = relocate(s, ol, nl) if nl else None
        if t is None:
            notes.append("%s: gone from today's tree, not judged" % describe(s))
            continue
        if (t[1], t[3]) != (s[1], s[3]):
            notes.append("%s is now %s" % (describe(s), describe(t)))
        out.append((describe(s), t))
    return out, notes


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


def tree_hash(tree):
    """A digest of the scratch tree's files (the tree a baseline was judged on)."""
    import hashlib
    h = hashlib.sha256()
    for d, dirs, files in sorted(os.walk(tree)):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            if os.path.islink(p):
                continue
            h.update(os.path.relpath(p, tree).encode() + b"\0")
            with open(p, "rb") as fh:
                h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()[:16]


class Baselines:
    """The unmutated tree judged once per tree and pass (Release scenarios, unit tests, ASan
    scenarios): a verdict is kept in --baseline-cache under the tree's digest, so that the
    runs of a split draw (several scratch copies of one tree) and later --only runs do not pay
    for the ASan baseline (the whole suite under ASan) again."""

    def __init__(self, cache, digest):
        self.dir = cache
        self.digest = digest

    def path(self, what):
        return os.path.join(self.dir, "%s.%s" % (self.digest, what))

    def judge(self, what, fn):
        """None when the unmutated tree passes `what` (computed or from the cache), else why."""
        p = self.path(what)
        if os.path.exists(p):
            print("mutate: baseline %s of tree %s: passed (cached in %s)" %
                  (what, self.digest, self.dir), flush=True)
            return None
        t0 = time.time()
        why = fn()
        print("mutate: baseline %s of tree %s: %s (%.0f s)" %
              (what, self.digest, "passed" if not why else "FAILED: " + why, time.time() - t0),
              flush=True)
        if not why:
            os.makedirs(self.dir, exist_ok=True)
            with open(p, "w") as f:
                f.write("passed %s\n" % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        return why


class Asan:
    """The scenario suite under ASan + UBSan (the `asan` preset's flags: Debug, -fsanitize=
    address,undefined, -fno-sanitize-recover) is part of the scenario suite: a leak
    (LeakSanitizer at exit), a memory error or undefined behaviour under any scenario kills the
    mutant.  Only mutants that the Release scenarios did not kill are run under ASan (a kill
    needs one failure), with --timeout times --asan-slowdown.  The unmutated tree must pass
    under ASan first, else the pass is off (no kill the clean tree would also get)."""

    def __init__(self, tree, scratch, a, baselines):
        self.tree, self.a = tree, a
        self.dir = os.path.join(scratch, "build-asan")
        self.bin = os.path.join(self.dir, "bin")
        self.t = a.timeout * a.asan_slowdown
        self.on = False
        self.units_on = False
        self.t0 = None
        rc, out = run(["cmake", "-S", tree, "-B", self.dir, "-DCMAKE_BUILD_TYPE=Debug",
                       "-DS3SIM_SANITIZE=ON"], None, 600)
        if rc != 0 or not build(self.dir, ["s3sim"], 3600):
            print("mutate: the ASan build of the unmutated tree failed; no ASan pass")
            return
        why = None
        if not a.no_scenarios:
            why = baselines.judge("asan-scenarios" + a.suite_tag,
                                  lambda: scenarios(tree, self.bin, a.jobs, self.t))
        if why:
            print("mutate: the unmutated tree fails under ASan; no ASan pass")
            return
        self.on = True
        # The unit tests under ASan too (a leak or a memory error on a unit test's path kills,
        # counted as the unit tests'): the unmutated tree must pass them there first.
        self.units_on = False
        if a.no_units:
            return
        if not build(self.dir, ["all"], 3600):
            print("mutate: the ASan build of the unit tests failed; unit tests in Release only")
            return
        why = baselines.judge("asan-units", lambda: units(tree, self.dir, a.jobs, self.t))
        if why:
            print("mutate: the unmutated tree's unit tests fail under ASan; Release only")
            return
        self.units_on = True

    def judge(self, site):
        """Under the mutation (already applied): what killed it under ASan, None if nothing,
        False when not judged (budget spent, or no build)."""
        if not self.on:
            return False
        if self.t0 is None:
            self.t0 = time.time()
        if time.time() - self.t0 > self.a.asan_budget:
            return False
        if not build(self.dir, ["s3sim"], 1800):
            return False
        return scenarios(self.tree, self.bin, self.a.jobs, self.t)

    def judge_units(self, site):
        """Under the mutation: the unit tests under ASan + UBSan; what killed it, or None."""
        if not self.on or not self.units_on or \
                (self.t0 is not None and time.time() - self.t0 > self.a.asan_budget):
            return None
        if not build(self.dir, ["all"], 1800):
            return None
        why = units(self.tree, self.dir, self.a.jobs, self.t)
        return ("ASan " + why) if why else None

    def restore(self):
        if self.on:
            build(self.dir, ["all" if self.units_on else "s3sim"], 1800)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=60, help="mutants that build (default 60)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=300, help="seconds per suite directory")
    ap.add_argument("--scratch", default=None, help="scratch dir (default /tmp/s3sim-mutate)")
    ap.add_argument("--draw-at", metavar="COMMIT", default=None,
                    help="draw the sites on COMMIT's src/ (an earlier draw, e.g. seed 3 on "
                    "e24366d) and judge each on today's tree, where the same line is now; "
                    "sites whose code is gone are listed and not judged")
    ap.add_argument("--asan", action="store_true",
                    help="the scenario suite also runs under ASan + UBSan for the mutants the "
                    "Release scenarios did not kill (leaks, overflows, UB kill)")
    ap.add_argument("--asan-slowdown", type=int, default=4,
                    help="timeout factor of the ASan pass (default 4)")
    ap.add_argument("--asan-budget", type=int, default=4 * 3600,
                    help="seconds the ASan runs of mutants may take in all; mutants left then "
                    "are reported as not judged under ASan (default 4 h)")
    ap.add_argument("--asan-only", action="store_true",
                    help="with --only: judge the given sites with the ASan pass alone")
    ap.add_argument("--baseline-cache", default="/tmp/s3sim-mutate-baselines",
                    help="where the unmutated tree's verdicts are kept, by the tree's digest")
    ap.add_argument("--no-units", action="store_true", help="scenarios only")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the check that the unmutated tree passes (the cache makes this "
                    "needless for a split draw of one tree)")
    ap.add_argument("--draws", metavar="A-B", default=None,
                    help="judge only draws A to B (1-based, in draw order) of the seed's draw: "
                    "one draw split over several scratch copies")
    ap.add_argument("--list", action="store_true", help="print the drawn sites and stop")
    ap.add_argument("--only", action="append", default=[], metavar="SITE",
                    help="run only the sites whose description starts with SITE (as printed, "
                    "e.g. 'src/wal.c:212 drop' or 'src/cln.c:551:13'); repeatable; with "
                    "--draw-at, as described on that commit's tree")
    ap.add_argument("--scenarios", action="append", default=[], metavar="PATH",
                    help="judge with these scenario files or directories (repeatable) instead "
                    "of the whole suite: a partial rejudge, e.g. of the scenarios written since "
                    "a full run; its verdicts are not the suite's score")
    ap.add_argument("--no-scenarios", action="store_true",
                    help="unit tests only (Release, and under ASan with --asan)")
    ap.add_argument("--files", action="append", default=[], metavar="GLOB",
                    help="draw only in these files of src/ (repeatable, e.g. 'src/scmp*.c'): "
                    "a draw over one part of the engine, to measure how well the scenarios "
                    "written for it judge it; not the suite's score")
    a = ap.parse_args()
    global SUITE, FILES
    FILES = a.files or None
    SUITE = a.scenarios or None
    a.suite_tag = ""
    if SUITE:
        import hashlib
        a.suite_tag = "-" + hashlib.sha256("\0".join(SUITE).encode()).hexdigest()[:8]
    if a.draws and not a.draw_at:
        ap.error("--draws goes with --draw-at (the draw order of that commit's sites)")

    scratch = a.scratch or "/tmp/s3sim-mutate"
    tree = os.path.join(scratch, "tree")
    bdir = os.path.join(scratch, "build")
    notes = []
    if a.draw_at:
        os.makedirs(scratch, exist_ok=True)
        pool, notes = draw_at(a.draw_at, a.seed, a.n, scratch)
        if a.only:
            pool = [(o, t) for o, t in pool if any(o.startswith(w) for w in a.only)]
        pool = [t for _, t in pool]
        sites, order = pool, list(range(len(pool)))
        if a.draws:
            lo, hi = (int(x) for x in a.draws.split("-"))
            order = order[lo - 1:hi]
        a.n = len(order)
    else:
        sites = all_sites(os.path.join(ROOT, "src"))
        order = list(range(len(sites)))
        random.Random(a.seed).shuffle(order)
        if a.only:
            order = [i for i in range(len(sites))
                     if any(describe(sites[i]).startswith(o) for o in a.only)]
            a.n = len(order)
    if a.list:
        for n in notes:
            print("# " + n)
        for i in order[:a.n]:
            print(describe(sites[i]))
        return 0
    for n in notes:
        print("mutate: " + n)
    if a.only:
        print("mutate: %d sites of --only" % len(order), flush=True)
    elif a.draw_at:
        print("mutate: seed %d drawn at %s: %d sites judged on today's tree" %
              (a.seed, a.draw_at, len(order)), flush=True)
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
    baselines = Baselines(a.baseline_cache, tree_hash(tree))
    t0 = time.time()
    if a.asan_only:
        if not a.only:
            print("mutate: --asan-only needs --only")
            return 2
        asan = Asan(tree, scratch, a, baselines)
        results = []
        for i in order:
            with mutated(tree, sites[i]):
                why = asan.judge(sites[i])
            results.append(asan_verdict(sites[i], why))
        asan.restore()
        return report(a, results, 0, t0)
    rc, out = run(["cmake", "-S", tree, "-B", bdir, "-DCMAKE_BUILD_TYPE=Release"], None, 600)
    if rc != 0 or not build(bdir, ["all"], 1800):
        print("mutate: the unmutated tree does not build:\n" + out[-2000:])
        return 2
    bindir = os.path.join(bdir, "bin")
    if not a.no_baseline:
        base = None
        if not a.no_scenarios:
            base = baselines.judge("release-scenarios" + a.suite_tag,
                                   lambda: scenarios(tree, bindir, a.jobs, a.timeout))
        if not base and not a.no_units:
            base = baselines.judge("units", lambda: units(tree, bdir, a.jobs, a.timeout))
        if base:
            print("mutate: the unmutated tree fails; fix that first: " + base)
            return 2
    asan = Asan(tree, scratch, a, baselines) if a.asan else None

    results = []  # (site, verdict, detail)
    nobuild = 0
    for i in order:
        if len(results) >= a.n:
            break
        site = sites[i]
        with mutated(tree, site):
            if not build(bdir, ["s3sim"], 900):
                nobuild += 1
                print("  [--] does not build: %s" % describe(site), flush=True)
                continue
            why = None if a.no_scenarios else scenarios(tree, bindir, a.jobs, a.timeout)
            verdict = "scenario" if why else None
            if not why and asan and not a.no_scenarios:
                r = asan_verdict(site, asan.judge(site))
                if r[1] == "asan":
                    why, verdict = r[2], "asan"
                elif r[2]:
                    print("  (%s: %s)" % (describe(site), r[2]), flush=True)
            if not why and not a.no_units:
                if build(bdir, ["all"], 1800):
                    why = units(tree, bdir, a.jobs, a.timeout)
                    verdict = "unit" if why else None
                if not why and asan:
                    why = asan.judge_units(site)
                    verdict = "unit" if why else None
        results.append((site, verdict or "survived", why or ""))
        print("  [%2d] %-9s %s%s" % (len(results), verdict or "SURVIVED", describe(site),
                                    ("\n         " + why) if why else ""), flush=True)
    build(bdir, ["all"], 1800)  # leave the scratch build unmutated
    if asan:
        asan.restore()
    return report(a, results, nobuild, t0)


def asan_verdict(site, why):
    if why is False:
        return (site, "survived", "not judged under ASan (budget spent or no ASan build)")
    if why:
        return (site, "asan", why)
    return (site, "survived", "")


def report(a, results, nobuild, t0):
    n = len(results)
    ks = sum(1 for r in results if r[1] == "scenario")
    ka = sum(1 for r in results if r[1] == "asan")
    ku = sum(1 for r in results if r[1] == "unit")
    what = "--only" if a.only else "seed %d" % a.seed
    if a.draw_at:
        what += " drawn at " + a.draw_at
    print("\nmutate: %s: %d mutants built (%d did not build, not counted), %.0f s" %
          (what, n, nobuild, time.time() - t0))
    if SUITE:
        print("  (a partial rejudge: the scenario suite was only %s)" % " ".join(SUITE))
    if a.no_scenarios:
        print("  (unit tests only: no scenario was run, the scenario score below is 0 by design)")
    if n:
        if a.asan or a.asan_only:
            print("  scenario suite (Release %d + ASan %d) kills %d/%d = %.0f%% (target >= 80%%)" %
                  (ks, ka, ks + ka, n, 100.0 * (ks + ka) / n))
        else:
            print("  scenario suite (Release only, no --asan) kills %d/%d = %.0f%% "
                  "(target >= 80%%)" % (ks, n, 100.0 * ks / n))
        print("  scenarios + unit tests kill %d/%d = %.0f%% (target >= 90%%)" %
              (ks + ka + ku, n, 100.0 * (ks + ka + ku) / n))
    surv = [r for r in results if r[1] == "survived"]
    print("survivors (%d):" % len(surv))
    for site, _, why in surv:
        print("  " + describe(site) + (" (%s)" % why if why else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
