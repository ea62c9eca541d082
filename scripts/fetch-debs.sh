#!/usr/bin/env bash
# Download (apt-get download, no install) the Debian packages advad's build needs besides
# LibTorch, with the libraries they depend on, into DIR, for a machine without apt or
# network (the GPU box): copy DIR there and run scripts/debs-env.sh DIR PREFIX, or
# scripts/device-check.sh --debs DIR.
#
# Usage: scripts/fetch-debs.sh DIR
# Run on a Debian 12 (or the GPU box's own Ubuntu/Debian release) machine with apt and network.
# The .debs are for this machine's release and architecture: they run on hosts with at least
# this glibc (Debian 12: glibc 2.36 -> Debian 12, Ubuntu 23.04 or newer).
#
# What is fetched: the -dev packages of every pkg-config dependency in the meson files
# (GStreamer core/base/check/app/video, gst-rtsp-server, OpenCV core/imgproc/imgcodecs/videoio
# (the modules advad includes; scripts/debs-env.sh rewrites opencv4.pc to those),
# libtiff, libarchive, nlohmann-json, GLib, GoogleTest, Google Benchmark, libmosquitto),
# pkgconf, the GStreamer tools and base plugins (videotestsrc, videoconvert, appsrc: what the tests
# and `advad bench live` use; the recipes' encoders/muxers are not fetched), and recursively every library package
# (lib*, zlib1g*) they depend on (Depends and Pre-Depends, no Recommends). Left out: the C
# library and compiler runtime (libc6, libstdc++6, libgcc-s1, ...), which a box with a
# compiler has. DIR/MANIFEST lists the packages with versions; DIR/SHA256SUMS the files.
set -euo pipefail
DIR=${1:?usage: scripts/fetch-debs.sh DIR}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

ROOTS=(
  pkgconf pkgconf-bin libpkgconf3
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev libopencv-videoio-dev
  libtiff-dev libarchive-dev nlohmann-json3-dev libglib2.0-dev
  libgtest-dev libbenchmark-dev libmosquitto-dev
)
# Only opencv4.pc is taken from libopencv-dev (it would pull every OpenCV module).
NODEPS=(libopencv-dev)
# On every machine that can compile; never unpacked over the host's.
SKIP_RE='^(libc6|libc6-dev|libc-bin|libc-dev-bin|libstdc\+\+6|libgcc-s1|libgcc-12-dev|libstdc\+\+-12-dev|linux-libc-dev|libcrypt1|libcrypt-dev|libnsl2|libnsl-dev|libtirpc3|libtirpc-dev|libtirpc-common|libselinux1|libsystemd0|libudev1)(:.*)?$'

echo "fetch-debs: resolving dependencies of ${#ROOTS[@]} packages..." >&2
# apt-cache depends --recurse prints the whole closure (package lines unindented, then
# their dependency lines); alternatives and virtual packages appear as <name>.
mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "${ROOTS[@]}" 2>/dev/null | grep -v '^ ' | grep -v '^<' | sort -u)
pkgs=()
for p in "${closure[@]}"; do
  [[ "$p" =~ $SKIP_RE ]] && continue
  keep=0
  for r in "${ROOTS[@]}"; do [ "$p" = "$r" ] && keep=1; done
  [[ "$p" == lib* || "$p" == zlib1g* ]] && keep=1
  # Only this architecture (and arch-independent) packages that have a candidate.
  [[ "$p" == *:* ]] && keep=0
  ((keep)) && pkgs+=("$p")
done
pkgs+=("${NODEPS[@]}")

# Candidate versions in one apt-cache call; names without one (purely virtual packages) are dropped.
declare -A CAND
while read -r name ver; do
  CAND[$name]=$ver
done < <(apt-cache policy "${pkgs[@]}" 2>/dev/null |
         awk '/^[^ ].*:$/ {p = substr($0, 1, length($0) - 1)} /^  Candidate:/ {print p, $2}')
real=()
for p in "${pkgs[@]}"; do
  v=${CAND[$p]:-}
  [ -n "$v" ] && [ "$v" != "(none)" ] && real+=("$p")
done
echo "fetch-debs: ${#real[@]} packages" >&2

cd "$DIR"
# apt-get download skips nothing by itself: only fetch what is not here yet.
todo=()
for p in "${real[@]}"; do
  v=${CAND[$p]}
  vf=${v//:/%3a}
  compgen -G "${p}_${vf}_*.deb" >/dev/null || todo+=("$p")
done
if ((${#todo[@]})); then
  echo "fetch-debs: downloading ${#todo[@]} .deb files into $DIR" >&2
  apt-get download -q "${todo[@]}" >/dev/null
fi

# .debs of an earlier run that are no longer wanted (other versions, dropped packages).
for f in ./*.deb; do
  [ -e "$f" ] || continue
  n=$(basename "$f"); n=${n%%_*}
  v=${CAND[$n]:-}; v=${v//:/%3a}
  [[ "$(basename "$f")" == "${n}_${v}_"* ]] || rm -f "$f"
done
{
  echo "# advad fetch-debs manifest: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(. /etc/os-release && echo "$PRETTY_NAME"), $(dpkg --print-architecture)"
  echo "# roots: ${ROOTS[*]} ${NODEPS[*]} (libopencv-dev: opencv4.pc only)"
  for p in "${real[@]}"; do printf '%s %s\n' "$p" "${CAND[$p]}"; done
} > MANIFEST
sha256sum ./*.deb > SHA256SUMS
echo "fetch-debs: $(ls ./*.deb | wc -l) files, $(du -sh . | cut -f1) in $DIR (MANIFEST, SHA256SUMS)" >&2
