#!/usr/bin/env bash
# V4L2 camera -> live display with heatmap, contours, boxes and verdict.
#
#   PROFILE=models/mvtec_ad2/can.ini CAMERA=/dev/video0 pipelines/camera_to_display.sh
#
# PROFILE   category profile (.ini) or model package folder (required)
# CAMERA    V4L2 device (default /dev/video0); gray cameras (GRAY8) work as they are
# INTERVAL  score every N-th frame (default 1). If scoring is slower than the
#           camera, raise it: the frames in between show the last result ("held").
# DEVICE, THREADS as in file_to_mp4.sh
#
# The leaky queue drops frames that arrive while the model is busy instead of
# letting latency grow; advadinfer reports its scoring time in the latency
# query, so the display sink schedules frames correctly.
set -euo pipefail
: "${PROFILE:?set PROFILE to a category profile (.ini) or a model package folder}"
CAMERA=${CAMERA:-/dev/video0}
DEVICE=${DEVICE:-auto} THREADS=${THREADS:-0} INTERVAL=${INTERVAL:-1}
gst-inspect-1.0 advadinfer >/dev/null 2>&1 ||
  { echo "advad plugin not found: 'meson install', or run inside 'meson devenv -C build'" >&2; exit 2; }

exec gst-launch-1.0 \
  v4l2src device="$CAMERA" ! videoconvert \
  ! queue leaky=downstream max-size-buffers=2 \
  ! advadtile profile="$PROFILE" \
  ! advadinfer profile="$PROFILE" device="$DEVICE" threads="$THREADS" inference-interval="$INTERVAL" \
  ! advadpostproc \
  ! advadoverlay \
  ! videoconvert ! autovideosink
