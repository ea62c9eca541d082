#!/usr/bin/env bash
# The main job: install what is missing, build, make the embedded default
# category (cached in .cache/demo) and run a real GStreamer pipeline (advad launch) on it:
#   multifilesrc (generated camera frames) ! advaddetect          (tile, score, threshold, draw)
#     ! advadclip      (keeps 1 s of encoded video; a clip around each defect)
#     ! advadpublish   (one JSON line per frame, naming the clip of a defect frame)
#     ! advadpublish   (each defect to an MQTT broker on 127.0.0.1, when mosquitto is installed)
#     ! x264enc ! mp4mux ! filesink
# Output in demo-out/: annotated.mp4 (heatmap without tile seams: tiles overlap
# and are Hann-blended), results.jsonl, clips/*.mp4 and, with mosquitto,
# mqtt_messages.txt (what a subscriber received).
# Usage: scripts/demo.sh [extra advaddetect properties, e.g. device=cuda:0]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
scripts/setup.sh "$BUILD"

ADVAD="$BUILD/src/tools/advad"
KIT=.cache/demo
OUT=demo-out
mkdir -p "$OUT"

# Embedded default: a textured surface with a bright or dark blob planted in
# every 2nd frame, scored by the demo scorer package (made once, then cached).
# Tiles overlap and are blended (Hann), so the heatmap has no seams; a kit
# made before that (pasted tiles) is made again.
if [ ! -f "$KIT/frames/frame_0023.png" ] || ! grep -q '^blend *= *hann' "$KIT/model/profile.ini" 2>/dev/null; then
  "$ADVAD" make-demo "$KIT" --frames 24 --width 640 --height 480 --defect-every 2 --tiling 2x2 --overlap 0.25
fi
PROFILE="$KIT/model/profile.ini"
# The main job's model: an INP-Former trained by `advad train` on generated
# defect-free frames of the same surface (models/demo/inpformer_demo.ini), its
# threshold set by `advad calibrate --write` on held-out defect-free frames to
# the false-alarm budget (default 1 % of good frames, through the whole
# post-processing chain; the profile's [calibration] group records how); made
# once (a few minutes on 2 cores), then cached. ADVAD_DEMO_TORCHSCRIPT=1 uses
# the TorchScript demo scorer instead.
if [ -z "${ADVAD_DEMO_TORCHSCRIPT:-}" ]; then
  INP="$KIT/inpformer"
  DS="$KIT/dataset/demo"
  if [ ! -f "$INP/profile.ini" ] || ! grep -q '^blend *= *hann' "$INP/profile.ini"; then
    "$ADVAD" make-demo "$KIT/normal" --frames 48 --defect-every 0 --seed 5
    "$ADVAD" make-demo "$KIT/heldout" --frames 24 --defect-every 0 --seed 11
    mkdir -p "$DS/train/good" "$DS/validation/good"
    cp "$KIT"/normal/frames/*.png "$DS/train/good/"
    cp "$KIT"/heldout/frames/*.png "$DS/validation/good/"
    "$ADVAD" train models/demo/inpformer_demo.ini --data "$DS" --out "$INP"
  fi
  if ! grep -q '^\[calibration\]' "$INP/profile.ini"; then
    "$ADVAD" calibrate "$INP/profile.ini" --dataset "$KIT/dataset" --category demo --write
  fi
  PROFILE="$INP/profile.ini"
fi

export GST_PLUGIN_PATH="$PWD/$BUILD/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
echo "advad demo: profile $PROFILE, frames $KIT/frames" >&2
rm -rf "$OUT/results.jsonl" "$OUT/clips" "$OUT/mqtt_messages.txt" "$OUT/mqtt"
mkdir -p "$OUT/clips"

# MQTT, when mosquitto is installed: a broker on a free port of 127.0.0.1 and
# a subscriber that records what arrives, both stopped at the end.
mqtt=()
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
free_port() {
  local p
  for p in $(shuf -i 20000-60000 -n 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}
if [ -x /usr/sbin/mosquitto ] && command -v mosquitto_sub >/dev/null && port=$(free_port); then
  mkdir -p "$OUT/mqtt"
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nlog_dest file %s\nlog_type all\n' \
    "$port" "$PWD/$OUT/mqtt/broker.log" >"$OUT/mqtt/mosquitto.conf"
  /usr/sbin/mosquitto -c "$OUT/mqtt/mosquitto.conf" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  mosquitto_sub -h 127.0.0.1 -p "$port" -t 'advad/#' -v >"$OUT/mqtt_messages.txt" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 50); do grep -q SUBACK "$OUT/mqtt/broker.log" 2>/dev/null && break; sleep 0.1; done
  mqtt=(! advadpublish method=mqtt address="127.0.0.1:$port" topic='advad/{source}/{category}' publish=defects
        source=demo-camera)
else
  echo "advad demo: mosquitto (broker and mosquitto_sub) not installed: no MQTT part" >&2
fi

# advad launch: gst-launch-1.0 -e that goes straight to PLAYING (`advad launch --help`).
"$ADVAD" launch \
  multifilesrc location="$KIT/frames/frame_%04d.png" index=0 stop-index=23 \
      caps="image/png,framerate=10/1" \
  ! pngdec ! videoconvert \
  ! advaddetect profile="$PROFILE" source=demo-camera "$@" \
  ! advadclip location="$OUT/clips" pre=1 post=1 source=demo-camera \
  ! advadpublish method=file location="$OUT/results.jsonl" source=demo-camera \
  "${mqtt[@]}" \
  ! videoconvert ! x264enc speed-preset=veryfast ! h264parse ! mp4mux \
  ! filesink location="$OUT/annotated.mp4"

frames=$(wc -l < "$OUT/results.jsonl")
defects=$(grep -c '"verdict":"defect"' "$OUT/results.jsonl" || true)
clips=$(find "$OUT/clips" -name '*.mp4' | wc -l)
echo "advad demo: $frames frames scored, $defects with a defect (12 planted)"
echo "advad demo: wrote $OUT/annotated.mp4 (seamless heatmap), $OUT/results.jsonl, $clips clip(s) in $OUT/clips/"
if ((${#mqtt[@]})); then
  sleep 0.5  # the last messages reach the subscriber
  echo "advad demo: MQTT: $(grep -c '' "$OUT/mqtt_messages.txt" || true) defect message(s) received on advad/demo-camera/<category> ($OUT/mqtt_messages.txt)"
fi
