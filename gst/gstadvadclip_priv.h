// advadclip's private state, shared by its three files: gstadvadclip.cpp
// (the bin, start/stop, state changes, properties), advadclip_stream.cpp
// (the stream side: pad probes, the planner, the appsink callbacks) and
// advadclip_writer.cpp (the writer thread that turns the planner's events
// into MP4 files).
#pragma once
#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gstadvadclip.h"
#include "record/clip_planner.h"

constexpr double kDefaultPre = 5, kDefaultPost = 5, kDefaultMaxDuration = 60;
constexpr guint kDefaultBitrate = 2048, kDefaultMaxPending = 4;

// One clip file being written (writer thread only).
struct ClipFile {
  std::string path;
  GstElement* pipeline = nullptr;
  GstElement* src = nullptr;
  GstClockTime offset = 0;  // first sample's pts: the file starts at 0
  bool failed = false;
};

struct State {
  // Settings (object lock).
  std::string location, source;
  double pre = kDefaultPre, post = kDefaultPost, max_duration = kDefaultMaxDuration;
  guint bitrate = kDefaultBitrate, max_pending = kDefaultMaxPending;

  // Running: planner and counters (mutex). Events are queued under it, so
  // the writer sees them in the planner's order.
  std::mutex mutex;
  std::unique_ptr<advad::record::ClipPlanner> planner;
  std::string run, folder, source_now;
  guint max_pending_now = kDefaultMaxPending;
  int pending = 0;          // clips opened and not yet written
  bool dropping = false;    // a warning for dropped clips was posted
  bool live_checked = false;
  GstSegment raw_segment{};  // the raw video's segment (running time -> pts for messages)
  GstClockTime next_key = GST_CLOCK_TIME_NONE;  // encoder branch thread only

  // Writer thread (qmutex).
  std::mutex qmutex;
  std::condition_variable qcv, idle_cv;
  std::deque<advad::record::ClipEvent> jobs;
  bool busy = false, stopping = false;
  std::thread writer;
  std::map<std::uint64_t, ClipFile> files;  // writer thread only
};

struct _GstAdvadClip {
  GstBin parent;
  GstElement *tee, *queue, *crop, *convert, *format, *encoder, *parse, *sink;
  State* st;
};

// advadclip_writer.cpp
// Queues the planner's events for the writer thread (call with st->mutex held,
// so the writer sees them in the planner's order); clears `events`.
void advad_clip_enqueue(State* st, std::vector<advad::record::ClipEvent>* events);
// A RESOURCE/WRITE warning naming the element.
void advad_clip_warning(GstAdvadClip* self, const std::string& text);
// The writer thread: runs the queued jobs until stopping and drained.
void advad_clip_writer_loop(GstAdvadClip* self);
void advad_clip_wait_written(State* st);
// advadclip_stream.cpp
GstPadProbeReturn advad_clip_on_tee_sink(GstPad* pad, GstPadProbeInfo* info, gpointer data);
GstPadProbeReturn advad_clip_on_encoder_sink(GstPad* pad, GstPadProbeInfo* info, gpointer data);
GstPadProbeReturn advad_clip_on_crop_caps(GstPad*, GstPadProbeInfo* info, gpointer data);
GstFlowReturn advad_clip_on_encoded(GstAppSink* sink, gpointer data);
void advad_clip_on_encoded_eos(GstAppSink*, gpointer data);
void advad_clip_finish_clips(State* st);
