// Defect clips with pre-roll, without GStreamer: which encoded samples go
// into which clip file. advadclip feeds it the encoder's output (in decode
// order) and the defect frames it sees upstream of the encoder; it answers
// with events (open a clip, append a sample, close a clip) that the element
// turns into MP4 files.
//
// * The pre-roll ring holds the newest samples from the last keyframe that is
//   at least `pre` before the newest sample: it always starts at a keyframe
//   and spans at most pre + one keyframe interval (+ one frame).
// * A defect at t opens a clip starting at the last keyframe at or before
//   t - pre (or the ring's first sample, when the stream is younger) and
//   ending before t + post; a defect before that end extends it to its own
//   t + post, but never past start + max_duration (0 = no cap). A clip always
//   holds the defect frame that opened it. The encoder may lag behind the
//   detector: a clip takes its start when the encoder output reaches t - pre.
// * The clip holds every sample with start <= pts < end; the first sample at
//   or past the end closes it. finish() closes every open clip (EOS, stop).
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace advad::record {

struct EncodedSample {
  std::int64_t pts = 0;            // ns, stream time
  std::int64_t duration = 0;       // ns, 0 = unknown
  bool keyframe = false;           // decodable on its own (starts a GOP)
  std::shared_ptr<void> payload;   // the caller's buffer, carried untouched
};

struct ClipOptions {
  std::int64_t pre = 0;            // ns of video kept before a defect
  std::int64_t post = 0;           // ns after the last defect of the clip
  std::int64_t max_duration = 0;   // ns, cap on one clip (0 = none)
};

struct ClipSummary {
  std::uint64_t id = 0;
  std::string name;
  std::int64_t first_pts = -1;     // first sample written (-1: none yet)
  std::int64_t last_pts = -1;      // last sample written
  std::int64_t end_pts = -1;       // last sample's pts + duration
  std::uint64_t samples = 0;
  std::vector<std::uint64_t> defect_frames;  // the opening frame first
  std::vector<std::int64_t> defect_pts;
};

struct ClipEvent {
  enum class Kind { Open, Sample, Close };
  Kind kind = Kind::Open;
  std::uint64_t clip = 0;          // id, from 1
  std::string name;                // Open: the clip's name
  EncodedSample sample;            // Sample
  ClipSummary summary;             // Close
};

struct DefectOutcome {
  enum class Kind { Opened, Extended, Dropped };
  Kind kind = Kind::Dropped;
  std::uint64_t clip = 0;          // Opened / Extended
  std::string name;                // the clip that holds the frame
};

class ClipPlanner {
 public:
  explicit ClipPlanner(const ClipOptions& options) : options_(options) {}

  // A defect frame at `pts`. It joins an open clip whose end lies after it;
  // otherwise it opens a clip named `name` -- unless `may_open` is false
  // (the caller's writer is full): then it is Dropped.
  DefectOutcome defect(std::int64_t pts, std::uint64_t frame, const std::string& name, bool may_open,
                       std::vector<ClipEvent>* events);
  // The encoder's next sample. A pts more than 1 s before the previous one
  // (a new stream, a seek) closes every clip and empties the ring first.
  void sample(EncodedSample s, std::vector<ClipEvent>* events);
  // Closes every open clip (end of stream): shorter post-roll, playable file.
  void finish(std::vector<ClipEvent>* events);

  std::size_t open_clips() const { return clips_.size(); }
  const std::deque<EncodedSample>& ring() const { return ring_; }

 private:
  struct Clip {
    ClipSummary summary;
    std::int64_t start = -1;       // pts of its first sample (-1: the encoder has not reached nominal_start yet)
    std::int64_t nominal_start = 0;  // trigger - pre
    std::int64_t trigger = 0;
    std::int64_t last_defect = 0;
    std::int64_t end = 0;          // samples with pts < end belong to it
  };
  void update_end(Clip* c) const;
  void append(Clip* c, const EncodedSample& s, std::vector<ClipEvent>* events) const;
  void close(std::size_t index, std::vector<ClipEvent>* events);
  void start_clip(std::size_t index, std::vector<ClipEvent>* events);
  void trim_ring();

  ClipOptions options_;
  std::deque<EncodedSample> ring_;
  std::vector<Clip> clips_;
  std::uint64_t next_id_ = 1;
  std::int64_t last_pts_ = -1;
};

// "<source>_<run>_f<frame>_<YYYYmmddTHHMMSS.mmmZ>.mp4" (UTC); an empty source
// or run is left out; characters other than [A-Za-z0-9._-] in them become '_'.
std::string clip_file_name(const std::string& source, const std::string& run, std::uint64_t frame,
                           double unix_seconds);

}  // namespace advad::record
