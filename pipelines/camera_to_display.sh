#!/usr/bin/env bash
# V4L2 camera -> live display with heatmap, contours, boxes and verdict.
#
#   PROFILE=models/mvtec_ad2/can.ini CAMERA=/dev/video0 pipelines/camera_to_display.sh
#
# PROFILE   category profile (.ini) or model package folder (required)
# CAMERA    V4L2 device (default /dev/video0); gray cameras (GRAY8) work as they are;
#           "test" = a live test pattern (videotestsrc is-live=true, 640x480 at 10 fps)
# NUM_BUFFERS  with CAMERA=test: stop after N frames (default 0 = run until Ctrl-C)
# SINK      the display (default "autovideosink sync=true qos=true")
# INTERVAL  score every N-th frame (default 1). If scoring is slower than the
#           camera, raise it: the frames in between show the last result ("held")
#           and the video flows at up to INTERVAL x the model's frame rate.
# DEVICE, THREADS as in file_to_mp4.sh
#
# No queue is needed: advadinfer scores on its own worker thread, drops frames
# that would reach the display too late before they cost model time, and
# reports the time frames really spend in it as latency, so the display sink
# schedules frames correctly and the delay behind the camera stays bounded.
set -euo pipefail
: "${PROFILE:?set PROFILE to a category profile (.ini) or a model package folder}"
CAMERA=${CAMERA:-/dev/video0}
DEVICE=${DEVICE:-auto} THREADS=${THREADS:-0} INTERVAL=${INTERVAL:-1}
NUM_BUFFERS=${NUM_BUFFERS:-0}
read -r -a sink <<<"${SINK:-autovideosink sync=true qos=true}"
if [ "$CAMERA" = test ]; then
  frames=$NUM_BUFFERS; [ "$frames" -gt 0 ] || frames=-1
  src=(videotestsrc is-live=true num-buffers="$frames" pattern=ball ! video/x-raw,width=640,height=480,framerate=10/1)
else
  src=(v4l2src device="$CAMERA")
fi
ADVAD=${ADVAD:-advad}  # the advad program: installed, or <build>/src/tools/advad
command -v "$ADVAD" >/dev/null 2>&1 ||
  { echo "advad not found: 'meson install', or set ADVAD=<build>/src/tools/advad" >&2; exit 2; }

exec "$ADVAD" launch \
  "${src[@]}" ! videoconvert \
  ! advaddetect profile="$PROFILE" device="$DEVICE" threads="$THREADS" inference-interval="$INTERVAL" \
  ! videoconvert ! "${sink[@]}"
