#!/usr/bin/env bash
# Video file -> results to an MQTT broker, one JSON message per frame (the
# fields of metadata_only_json.sh's lines); no drawing, no video out. The
# video never waits for the broker: results queue (up to MAX_QUEUED, oldest
# dropped beyond) and are sent in order when it is back.
#
#   PROFILE=models/mvtec_ad2/can.ini INPUT=line3.mp4 BROKER=broker.local:1883 pipelines/file_to_mqtt.sh
#   mosquitto_sub -h broker.local -t 'advad/#' -v     # to watch them
#
# PROFILE      category profile (.ini) or model package folder (required)
# INPUT        video file (required); for a camera use v4l2src as in camera_to_display.sh
# BROKER       MQTT broker host:port (default 127.0.0.1:1883)
# TOPIC        topic; {source} and {category} are filled in (default advad/{source})
# SOURCE       the "source" field and {source} (default: the input's name)
# PUBLISH      all | defects | every-n (default all); EVERY_N for every-n (default 10)
# QOS          0, 1 or 2 (default 1: at least once, in order)
# CREDENTIALS  file whose first line is username:password (default: anonymous)
# DEVICE, THREADS, INTERVAL as in file_to_mp4.sh
set -euo pipefail
: "${PROFILE:?set PROFILE to a category profile (.ini) or a model package folder}"
: "${INPUT:?set INPUT to a video file}"
BROKER=${BROKER:-127.0.0.1:1883}
TOPIC=${TOPIC:-advad/\{source\}}
SOURCE=${SOURCE:-$(basename "$INPUT")}
PUBLISH=${PUBLISH:-all} EVERY_N=${EVERY_N:-10} QOS=${QOS:-1} CREDENTIALS=${CREDENTIALS:-}
DEVICE=${DEVICE:-auto} THREADS=${THREADS:-0} INTERVAL=${INTERVAL:-1}
ADVAD=${ADVAD:-advad}  # the advad program: installed, or <build>/src/tools/advad
command -v "$ADVAD" >/dev/null 2>&1 ||
  { echo "advad not found: 'meson install', or set ADVAD=<build>/src/tools/advad" >&2; exit 2; }

# At EOS advadpublish waits (flush-timeout, 2 s) for the broker to take what is queued.
exec "$ADVAD" launch \
  filesrc location="$INPUT" ! decodebin ! videoconvert \
  ! advaddetect profile="$PROFILE" device="$DEVICE" threads="$THREADS" inference-interval="$INTERVAL" \
      overlay=false source="$SOURCE" \
  ! advadpublish address="$BROKER" topic="$TOPIC" source="$SOURCE" publish="$PUBLISH" every-n="$EVERY_N" \
      qos="$QOS" ${CREDENTIALS:+"credentials=$CREDENTIALS"} \
  ! fakesink sync=false
