#!/usr/bin/env bash
# Compiles (g++ -fsyntax-only: no objects, no linking) every project source that builds against
# LibTorch against ANOTHER LibTorch's headers, e.g. Debian trixie's libtorch-dev 2.6 unpacked
# with `dpkg -x` on a machine whose own LibTorch is 1.13. It proves the code compiles with that
# LibTorch version; it does not link or run anything.
#
# Usage: scripts/check-libtorch-headers.sh [options] <include-prefix> [build-dir]
#   <include-prefix>  the folder that holds include/torch, include/ATen, include/c10, e.g.
#                     /tmp/lt26/usr after `dpkg -x libtorch-dev_2.6.0+dfsg-7_amd64.deb /tmp/lt26`
#   [build-dir]       a configured build folder whose compile_commands.json gives the
#                     commands (default: build, in the source root)
#   --only REGEX      check only the sources whose path matches REGEX (python re.search)
#   --log-dir DIR     keep each failing source's full compiler output in DIR
#   --jobs N          compile N sources at a time (default 1)
#   --cxxflag FLAG    add FLAG to every command (repeatable), e.g. -DADVAD_WITH_CUDA=1 to check
#                     the code a CUDA LibTorch build compiles (meson adds it with libtorch_cuda)
#   --pch             precompile each target's pch text against <include-prefix> first (in a
#                     temporary folder) and use it: LibTorch is parsed once per target instead
#                     of once per source (a full run takes about half the CPU time)
#   --help
#
# For each command taken from compile_commands.json: the include folders of the build's own
# LibTorch (any folder holding torch/csrc or ATen/ATen.h) are dropped, and <prefix>/include and
# <prefix>/include/torch/csrc/api/include are put first (-isystem, ahead of the build's other
# -isystem folders; /usr/include is searched only after them); the precompiled header
# (-include X_pch.h of a .gch, -fpch-preprocess, -Winvalid-pch) is replaced by -include of the
# pch's .h text; -c/-o/-MD/-MF/-MQ are dropped and -fsyntax-only -H added. The -H header list is
# checked: a source that still reads a LibTorch header from anywhere but <prefix> (e.g. a
# header the other version lacks, found in /usr/include's 1.13) fails as "leak". Precompiled
# header entries themselves (-x c++-header) are skipped: their text is part of every source.
# Headers of other packages that the LibTorch headers include (not libc/libstdc++; e.g.
# protobuf or Python, found in /usr/include) are listed after the table: check that they are
# the versions that LibTorch expects.
#
# Prints one line per source (ok, warn = compiled with warnings, FAIL, LEAK; seconds; the first
# error or warning) and a summary; exit 0 when every source compiled (warnings do not fail it),
# 1 when any failed or leaked, 2 on a usage error. A full run is slow (~10-20 s of CPU a
# source; run it under `nice -n 19`). Debian's 2.6 libraries need glibc 2.38, so on Debian 12
# only this header check is possible. See docs/gpu.md ("LibTorch 2.x").
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
ONLY=""
LOGDIR=""
PCH=0
EXTRA=()
JOBS=1
POS=()
while (($#)); do
  case "$1" in
    --only) ONLY=${2:?--only needs a regex}; shift 2 ;;
    --log-dir) LOGDIR=${2:?--log-dir needs a folder}; shift 2 ;;
    --jobs) JOBS=${2:?--jobs needs a number}; shift 2 ;;
    --pch) PCH=1; shift ;;
    --cxxflag) EXTRA+=("${2:?--cxxflag needs a flag}"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "check-libtorch-headers: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) POS+=("$1"); shift ;;
  esac
done
if [ ${#POS[@]} -lt 1 ] || [ ${#POS[@]} -gt 2 ]; then
  echo "usage: scripts/check-libtorch-headers.sh [options] <include-prefix> [build-dir] (see --help)" >&2
  exit 2
fi
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || { echo "check-libtorch-headers: --jobs must be >= 1" >&2; exit 2; }
PREFIX=${POS[0]}
BUILD=${POS[1]:-$SRC/build}
[ -f "$PREFIX/include/torch/csrc/api/include/torch/torch.h" ] || {
  echo "check-libtorch-headers: $PREFIX/include/torch/csrc/api/include/torch/torch.h not found (give the folder that holds include/)" >&2
  exit 2; }
[ -f "$BUILD/compile_commands.json" ] || {
  echo "check-libtorch-headers: $BUILD/compile_commands.json not found (meson setup $BUILD first)" >&2
  exit 2; }
command -v python3 >/dev/null || { echo "check-libtorch-headers: needs python3" >&2; exit 2; }
[ -z "$LOGDIR" ] || mkdir -p "$LOGDIR" || exit 2

exec python3 - "$PREFIX" "$BUILD" "$ONLY" "$LOGDIR" "$JOBS" "$PCH" "${EXTRA[@]}" <<'PY'
import concurrent.futures, json, os, re, shlex, shutil, subprocess, sys, tempfile, time

prefix, build, only, logdir, jobs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
use_pch = sys.argv[6] == "1"
extra = sys.argv[7:]
prefix = os.path.realpath(prefix)
inc = os.path.join(prefix, "include")
api = os.path.join(inc, "torch", "csrc", "api", "include")

def torch_version():
    v = {}
    try:
        with open(os.path.join(api, "torch", "version.h")) as f:
            for line in f:
                m = re.match(r"#define TORCH_VERSION_(MAJOR|MINOR|PATCH) (\d+)", line)
                if m:
                    v[m.group(1)] = m.group(2)
    except OSError:
        pass
    return ".".join(v.get(k, "?") for k in ("MAJOR", "MINOR", "PATCH"))

def is_torch_dir(d):
    return os.path.isdir(os.path.join(d, "torch", "csrc")) or os.path.isfile(os.path.join(d, "ATen", "ATen.h"))

with open(os.path.join(build, "compile_commands.json")) as f:
    entries = json.load(f)

# pch name -> its .h (the entries that build the .gch are -x c++-header)
pch_text = {}
for e in entries:
    args = e.get("arguments") or shlex.split(e["command"])
    if "c++-header" in args:
        path = os.path.normpath(os.path.join(e["directory"], e["file"]))
        pch_text[os.path.basename(path)] = path

def rewrite(e):
    """The entry's argv for the header check, or None when it does not build against LibTorch."""
    args = e.get("arguments") or shlex.split(e["command"])
    d = e["directory"]
    out, uses_torch, i = [], False, 1
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        # include folders: -I/-isystem/-iquote/-idirafter, joined or separate
        m = re.match(r"^(-I|-isystem|-iquote|-idirafter)(.*)$", a)
        if m:
            path = m.group(2) if m.group(2) else nxt
            step = 1 if m.group(2) else 2
            full = os.path.normpath(os.path.join(d, path))
            if is_torch_dir(full) or full.endswith("/torch/csrc/api/include"):
                uses_torch = True
            else:
                out += args[i:i + step]
            i += step
            continue
        if a in ("-o", "-MF", "-MQ", "-MT"):
            i += 2
            continue
        if a in ("-c", "-MD", "-MMD", "-fpch-preprocess", "-Winvalid-pch") or a.startswith("-fdiagnostics-color"):
            i += 1
            continue
        if a == "-include" and nxt is not None and os.path.basename(nxt) in pch_text:
            out += ["-include", pch_text[os.path.basename(nxt)]]
            i += 2
            continue
        out.append(a)
        i += 1
    if not uses_torch:
        return None
    return [args[0], "-isystem", inc, "-isystem", api, "-fdiagnostics-color=never", "-fsyntax-only", "-H"] + extra + out

checks, skipped_pch = [], 0
for e in entries:
    args = e.get("arguments") or shlex.split(e["command"])
    path = os.path.normpath(os.path.join(e["directory"], e["file"]))
    if "c++-header" in args:
        skipped_pch += 1
        continue
    argv = rewrite(e)
    if argv is None or (only and not re.search(only, path)):
        continue
    checks.append((os.path.relpath(path, os.getcwd()) if path.startswith(os.getcwd()) else path, e["directory"], argv))

torch_names = re.compile(r"/(torch|ATen|c10|caffe2)/")
# libc, libstdc++ and the compiler's own headers: not another package's
system_header = re.compile(r"^(/usr/include/[^/]+\.h|/usr/include/(c\+\+|x86_64-linux-gnu|aarch64-linux-gnu|linux|asm-generic|sys|bits)/.*|/usr/lib/gcc/.*)$")
def run(item):
    name, d, argv = item[:3]
    t0 = time.time()
    p = subprocess.run(argv, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    secs = time.time() - t0
    diag, leaks, foreign, stack = [], [], set(), []
    for line in p.stderr.splitlines():
        m = re.match(r"^(\.+) (.*)$", line)
        if m:
            h = os.path.normpath(os.path.join(d, m.group(2)))
            depth = len(m.group(1))
            del stack[depth - 1:]
            if torch_names.search(h) and not h.startswith(prefix + "/"):
                leaks.append(h)
            # a header of another package that a LibTorch header includes
            if stack and stack[-1].startswith(prefix + "/") and not h.startswith(prefix + "/") and not system_header.match(h):
                foreign.add(h)
            stack.append(h)
        elif re.match(r"^[!x] ", line):  # -H: a .gch used (!) or found unusable (x)
            continue
        elif line and not line.startswith("Multiple include guards") and not re.match(r"^(/|\.\./|[A-Za-z_]).*\.h(pp)?$", line):
            diag.append(line)
    errors = [l for l in diag if re.search(r"(fatal )?error:", l)]
    warnings = [l for l in diag if re.search(r" warning:", l)]
    if p.returncode != 0:
        status, first = "FAIL", (errors[0] if errors else (diag[0] if diag else "exit %d" % p.returncode))
    elif leaks:
        status, first = "LEAK", "reads %s (not from %s)" % (leaks[0], prefix)
    elif warnings:
        status, first = "warn", "%d warning(s): %s" % (len(warnings), warnings[0])
    else:
        status, first = "ok", ""
    if status != "ok" and logdir:
        with open(os.path.join(logdir, re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".log"), "w") as f:
            f.write(" ".join(shlex.quote(a) for a in argv) + "\n\n" + "\n".join(diag) + "\n")
            if leaks:
                f.write("\nLibTorch headers read from outside the prefix:\n" + "\n".join(sorted(set(leaks))) + "\n")
    other_packages.update(foreign)
    return name, status, secs, first

# --pch: one .gch per target (the sources' flags without the source), built from a copy of the
# pch text in a temporary folder; each source then -include's the copy (-Winvalid-pch: a .gch
# gcc cannot use is a warning, and the text is read instead).
pch_tmp = tempfile.mkdtemp(prefix="check-libtorch-pch-") if use_pch else None
def with_pch(checks):
    built, out = {}, []
    for name, d, argv in checks:
        if "-include" not in argv:
            out.append((name, d, argv))
            continue
        k = argv.index("-include")
        text = argv[k + 1]
        key = (d, tuple(argv[:k] + argv[k + 2:-1]))
        if key not in built:
            folder = os.path.join(pch_tmp, str(len(built)))
            os.makedirs(folder)
            copy = os.path.join(folder, os.path.basename(text))
            shutil.copyfile(text, copy)
            cmd = [a for a in argv[:k] + argv[k + 2:-1] if a != "-fsyntax-only"] + ["-x", "c++-header", copy, "-o", copy + ".gch"]
            label = "%s (pch of %s)" % (os.path.relpath(text, os.getcwd()) if text.startswith(os.getcwd()) else text,
                                        name.rsplit("/", 1)[0])
            r = run((label, d, cmd))
            print("[pch]     %-4s %6.1fs  %s%s" % (r[1], r[2], r[0], ("  " + r[3]) if r[3] else ""), flush=True)
            built[key] = copy if r[1] in ("ok", "warn") else None
            if r[1] not in ("ok", "warn"):
                pch_failures.append(r)
        copy = built[key]
        out.append((name, d, argv if copy is None else argv[:k] + ["-include", copy, "-Winvalid-pch"] + argv[k + 2:]))
    return out
pch_failures = []
other_packages = set()

print("LibTorch headers %s (TORCH_VERSION %s), commands from %s/compile_commands.json%s"
      % (prefix, torch_version(), build, (", extra flags " + " ".join(extra)) if extra else ""))
print("%d sources build against LibTorch%s; %d precompiled-header entries skipped (their .h is -include'd instead)"
      % (len(checks), " matching --only %r" % only if only else "", skipped_pch), flush=True)
results, t0 = [], time.time()
if use_pch:
    checks = with_pch(checks)
with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
    for n, r in enumerate(pool.map(run, checks), 1):
        results.append(r)
        name, status, secs, first = r
        print("[%3d/%d] %-4s %6.1fs  %s%s" % (n, len(checks), status, secs, name, ("  " + first) if first else ""), flush=True)

if pch_tmp:
    shutil.rmtree(pch_tmp, ignore_errors=True)
results += pch_failures
bad = [r for r in results if r[1] not in ("ok", "warn")]
warned = [r for r in results if r[1] == "warn"]
print("\n%-55s %-4s %s" % ("source", "", "first error (or warning)"))
for name, status, secs, first in results:
    if status != "ok":
        print("%-55s %-4s %s" % (name, status, first[:200]))
if other_packages:
    print("headers of other packages that the LibTorch headers include (found outside %s):" % prefix)
    for h in sorted(other_packages):
        print("  " + h)
print("summary: %d checked, %d ok, %d failed, %d compiled with warnings (%.0f s) against LibTorch %s"
      % (len(results), len(results) - len(bad), len(bad), len(warned), time.time() - t0, torch_version()))
sys.exit(1 if bad else 0)
PY
