#!/usr/bin/env bash
# Unpack the .debs of scripts/fetch-debs.sh into PREFIX (no apt, no root: dpkg -x, or ar + tar
# where dpkg is missing) and give the environment that builds and runs advad from there:
#   PKG_CONFIG_LIBDIR  the prefix's .pc folders only (the .pc files are rewritten from /usr to
#                      PREFIX/usr; opencv4.pc lists only the OpenCV modules that were fetched)
#   PATH               PREFIX/usr/bin first (pkg-config from pkgconf, gst-launch-1.0, gst-inspect-1.0)
#   CPATH, LIBRARY_PATH, LD_LIBRARY_PATH   the prefix's include and library folders
#   GST_PLUGIN_SYSTEM_PATH_1_0, GST_PLUGIN_SCANNER_1_0, GST_REGISTRY_1_0   the prefix's GStreamer
# Also makes the links Debian's maintainer scripts would (update-alternatives for libblas.so.3 /
# liblapack.so.3) and points absolute symlinks into PREFIX.
#
# Usage: scripts/debs-env.sh DIR PREFIX            prints `export ...` lines: eval "$(scripts/debs-env.sh D P)"
#        . scripts/debs-env.sh DIR PREFIX          (sourced) exports them into the current shell
# Unpacks once: PREFIX/.advad-debs-stamp remembers DIR/SHA256SUMS (or the .deb names).
_advad_debs_env() {
  local dir=${1:-} prefix=${2:-}
  if [ -z "$dir" ] || [ -z "$prefix" ]; then
    echo "usage: scripts/debs-env.sh DIR PREFIX" >&2
    return 2
  fi
  if ! compgen -G "$dir/*.deb" >/dev/null; then
    echo "debs-env: $dir has no .deb files (make them with scripts/fetch-debs.sh DIR)" >&2
    return 1
  fi
  dir=$(cd "$dir" && pwd)
  mkdir -p "$prefix" || return 1
  prefix=$(cd "$prefix" && pwd)
  local arch=x86_64-linux-gnu
  case "$(uname -m)" in aarch64) arch=aarch64-linux-gnu ;; esac
  local stamp="$prefix/.advad-debs-stamp" want
  if [ -f "$dir/SHA256SUMS" ]; then want=$(cksum < "$dir/SHA256SUMS"); else want=$(ls "$dir" | cksum); fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "debs-env: unpacking $(ls "$dir"/*.deb | wc -l) .debs into $prefix" >&2
    local f m
    for f in "$dir"/*.deb; do
      if command -v dpkg-deb >/dev/null 2>&1; then
        dpkg-deb -x "$f" "$prefix" || { echo "debs-env: cannot unpack $f" >&2; return 1; }
      else
        m=$(ar t "$f" | grep '^data\.tar') || { echo "debs-env: $f: no data.tar (need dpkg-deb or ar)" >&2; return 1; }
        case "$m" in
          *.xz) ar p "$f" "$m" | tar -xJ -C "$prefix" ;;
          *.zst) ar p "$f" "$m" | zstd -dc | tar -x -C "$prefix" ;;
          *.gz) ar p "$f" "$m" | tar -xz -C "$prefix" ;;
          *) ar p "$f" "$m" | tar -x -C "$prefix" ;;
        esac || { echo "debs-env: cannot unpack $f" >&2; return 1; }
      fi
    done
    # .pc files: /usr -> PREFIX/usr in variables (prefix=/usr, libdir=/usr/lib/...) and -I/-L flags.
    local pc
    for pc in "$prefix"/usr/lib/$arch/pkgconfig/*.pc "$prefix"/usr/lib/pkgconfig/*.pc "$prefix"/usr/share/pkgconfig/*.pc; do
      [ -f "$pc" ] || continue
      [ -L "$pc" ] && continue
      sed -i -E -e "s#^([A-Za-z_][A-Za-z0-9_.]*=)/usr(/|\$)#\\1$prefix/usr\\2#" \
        -e "s#(^|[[:space:]])-([IL])/usr/#\\1-\\2$prefix/usr/#g" "$pc"
    done
    # opencv4.pc (from libopencv-dev, without its dependencies): only the fetched modules.
    pc="$prefix/usr/lib/$arch/pkgconfig/opencv4.pc"
    if [ -f "$pc" ]; then
      local libs="" mod
      for mod in $(grep '^Libs:' "$pc" | grep -o -- '-lopencv_[a-z0-9_]*'); do
        [ -e "$prefix/usr/lib/$arch/lib${mod#-l}.so" ] && libs="$libs $mod"
      done
      sed -i -E "s#^Libs:.*#Libs: -L\${exec_prefix}/lib/$arch$libs#" "$pc"
    fi
    # update-alternatives links (libblas.so.3 -> blas/libblas.so.3, ...).
    local L="$prefix/usr/lib/$arch" n cand
    for n in libblas.so.3 liblapack.so.3 libblas.so liblapack.so; do
      [ -e "$L/$n" ] && continue
      cand=$(ls "$L"/*/"$n" 2>/dev/null | sort | head -1)
      [ -n "$cand" ] && ln -sfn "$cand" "$L/$n"
    done
    # Absolute symlinks (-> /usr/lib/..., /lib/...) point into PREFIX where the target is there.
    local link t
    while IFS= read -r link; do
      t=$(readlink "$link")
      case "$t" in /*) [ -e "$prefix$t" ] && ln -sfn "$prefix$t" "$link" ;; esac
    done < <(find "$prefix/usr" "$prefix/lib" -type l 2>/dev/null)
    echo "$want" > "$stamp"
  fi

  local pcdirs="" d
  for d in "$prefix/usr/lib/$arch/pkgconfig" "$prefix/usr/lib/pkgconfig" "$prefix/usr/share/pkgconfig"; do
    [ -d "$d" ] && pcdirs="$pcdirs${pcdirs:+:}$d"
  done
  local libdirs="$prefix/usr/lib/$arch:$prefix/lib/$arch:$prefix/usr/lib"
  [ -d "$prefix/usr/lib/$arch/blas" ] && libdirs="$libdirs:$prefix/usr/lib/$arch/blas"
  [ -d "$prefix/usr/lib/$arch/lapack" ] && libdirs="$libdirs:$prefix/usr/lib/$arch/lapack"
  local gst="$prefix/usr/lib/$arch/gstreamer-1.0"
  local scanner="$prefix/usr/lib/$arch/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner"
  _ADVAD_EXPORTS=(
    "PKG_CONFIG_LIBDIR=$pcdirs"
    "PKG_CONFIG_PATH="
    "PATH=$prefix/usr/bin${PATH:+:$PATH}"
    "CPATH=$prefix/usr/include:$prefix/usr/include/$arch${CPATH:+:$CPATH}"
    "LIBRARY_PATH=$libdirs${LIBRARY_PATH:+:$LIBRARY_PATH}"
    "LD_LIBRARY_PATH=$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    "GST_PLUGIN_SYSTEM_PATH_1_0=$gst"
    "GST_PLUGIN_SCANNER_1_0=$scanner"
    "GST_REGISTRY_1_0=$prefix/gst-registry.bin"
    "ADVAD_DEBS_PREFIX=$prefix"
  )
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  # Sourced: export into the caller's shell.
  if _advad_debs_env "$@"; then
    for _advad_kv in "${_ADVAD_EXPORTS[@]}"; do export "$_advad_kv"; done
    unset _advad_kv _ADVAD_EXPORTS
  else
    return 1
  fi
else
  set -uo pipefail
  _advad_debs_env "$@" || exit $?
  for kv in "${_ADVAD_EXPORTS[@]}"; do printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"; done
fi
