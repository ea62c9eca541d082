#!/usr/bin/env bash
# RTSP camera -> annotated MP4 recording (+ JSON lines), e.g. to keep what a
# line's camera saw with the verdicts drawn in.
#
#   PROFILE=models/mvtec_ad2/can.ini CAMERA=rtsp://10.0.0.7:554/stream1 pipelines/rtsp_camera_to_recording.sh
#
# PROFILE      category profile (.ini) or model package folder (required)
# CAMERA       rtsp:// URL of the camera (required); `advad serve` URLs work too
# OUTPUT       recording file (default recording.mp4)
# JSON         JSON-lines file, one line per frame (default: none); '-' = stdout
# SOURCE       "source" field of the JSON lines (default: camera)
# NUM_BUFFERS  stop after this many frames (default: run until Ctrl-C / SIGTERM)
# TRANSPORT    tcp, udp or udp+tcp (default tcp: works through firewalls, and a
#              camera that goes away is noticed at once)
# LATENCY      jitter buffer in ms (default 200)
# KEYINT       frames between key frames (default 30)
# LATE         late-frames of advaddetect (default carry: a frame the model cannot
#              score in time still goes into the file, with the last result, and
#              its JSON line says carried; drop leaves it out)
# DEVICE, THREADS, INTERVAL as in file_to_mp4.sh
#
# Ctrl-C or SIGTERM ends the stream (EOS) and finishes the file; so does a
# camera that drops its TCP connection (rtspsrc ends the stream, exit 0). The
# MP4 is fragmented (a fragment per second), so it stays playable up to the
# last second even when the process itself dies. For a
# recorder that must outlive camera restarts, run this under a supervisor
# (e.g. systemd Restart=always with a new OUTPUT per start), or record the
# stream of `advad serve`, which reconnects by itself (see pipelines/README.md).
set -euo pipefail
: "${PROFILE:?set PROFILE to a category profile (.ini) or a model package folder}"
: "${CAMERA:?set CAMERA to the rtsp:// URL of the camera}"
OUTPUT=${OUTPUT:-recording.mp4} JSON=${JSON:-} SOURCE=${SOURCE:-camera} NUM_BUFFERS=${NUM_BUFFERS:--1}
TRANSPORT=${TRANSPORT:-tcp} LATENCY=${LATENCY:-200} KEYINT=${KEYINT:-30} LATE=${LATE:-carry}
DEVICE=${DEVICE:-auto} THREADS=${THREADS:-0} INTERVAL=${INTERVAL:-1}
ADVAD=${ADVAD:-advad}  # the advad program: installed, or <build>/src/tools/advad
command -v "$ADVAD" >/dev/null 2>&1 ||
  { echo "advad not found: 'meson install', or set ADVAD=<build>/src/tools/advad" >&2; exit 2; }

# identity eos-after ends the stream after NUM_BUFFERS decoded frames (-1: never).
exec "$ADVAD" launch \
  rtspsrc location="$CAMERA" protocols="$TRANSPORT" latency="$LATENCY" ! decodebin \
  ! identity eos-after="$NUM_BUFFERS" ! videoconvert \
  ! advaddetect profile="$PROFILE" device="$DEVICE" threads="$THREADS" inference-interval="$INTERVAL" late-frames="$LATE" \
      json-location="$JSON" source="$SOURCE" \
  ! videoconvert ! video/x-raw,format=I420 ! x264enc speed-preset=veryfast key-int-max="$KEYINT" ! h264parse \
  ! mp4mux fragment-duration=1000 ! filesink location="$OUTPUT"
