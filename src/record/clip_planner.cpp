#include "record/clip_planner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace advad::record {

namespace {
constexpr std::int64_t kBackwardsJump = 1000000000;  // 1 s: a new stream, not jitter
}

void ClipPlanner::update_end(Clip* c) const {
  std::int64_t end = c->last_defect + options_.post;
  if (options_.max_duration > 0) end = std::min(end, (c->start >= 0 ? c->start : c->nominal_start) + options_.max_duration);
  // The opening frame is always in its clip, whatever the cap; an end never moves back.
  c->end = std::max({end, c->trigger + 1, c->end});
}

void ClipPlanner::append(Clip* c, const EncodedSample& s, std::vector<ClipEvent>* events) const {
  ClipSummary& sum = c->summary;
  if (sum.first_pts < 0) sum.first_pts = s.pts;
  sum.last_pts = s.pts;
  sum.end_pts = s.pts + std::max<std::int64_t>(s.duration, 0);
  ++sum.samples;
  ClipEvent e;
  e.kind = ClipEvent::Kind::Sample;
  e.clip = sum.id;
  e.sample = s;
  events->push_back(std::move(e));
}

void ClipPlanner::close(std::size_t index, std::vector<ClipEvent>* events) {
  ClipEvent e;
  e.kind = ClipEvent::Kind::Close;
  e.clip = clips_[index].summary.id;
  e.summary = std::move(clips_[index].summary);
  events->push_back(std::move(e));
  clips_.erase(clips_.begin() + static_cast<std::ptrdiff_t>(index));
}

DefectOutcome ClipPlanner::defect(std::int64_t pts, std::uint64_t frame, const std::string& name, bool may_open,
                                  std::vector<ClipEvent>* events) {
  DefectOutcome out;
  // The newest clip first: with overlapping (capped) clips the frame joins the one it extends most.
  for (auto it = clips_.rbegin(); it != clips_.rend(); ++it) {
    if (pts < it->end && pts >= (it->start >= 0 ? it->start : it->nominal_start)) {
      it->last_defect = std::max(it->last_defect, pts);
      update_end(&*it);
      it->summary.defect_frames.push_back(frame);
      it->summary.defect_pts.push_back(pts);
      out.kind = DefectOutcome::Kind::Extended;
      out.clip = it->summary.id;
      out.name = it->summary.name;
      return out;
    }
  }
  if (!may_open) return out;
  Clip c;
  c.summary.id = next_id_++;
  c.summary.name = name;
  c.summary.defect_frames.push_back(frame);
  c.summary.defect_pts.push_back(pts);
  c.trigger = c.last_defect = pts;
  c.nominal_start = pts - options_.pre;
  update_end(&c);
  ClipEvent open;
  open.kind = ClipEvent::Kind::Open;
  open.clip = c.summary.id;
  open.name = name;
  events->push_back(std::move(open));
  out.kind = DefectOutcome::Kind::Opened;
  out.clip = c.summary.id;
  out.name = name;
  clips_.push_back(std::move(c));
  // The encoder may lag behind the detector: the clip starts once the ring reaches trigger - pre.
  if (!ring_.empty() && ring_.back().pts >= clips_.back().nominal_start) start_clip(clips_.size() - 1, events);
  return out;
}

void ClipPlanner::sample(EncodedSample s, std::vector<ClipEvent>* events) {
  if (last_pts_ >= 0 && s.pts < last_pts_ - kBackwardsJump) {
    finish(events);
    ring_.clear();
  }
  last_pts_ = s.pts;
  for (std::size_t i = 0; i < clips_.size();) {
    Clip& c = clips_[i];
    if (c.start < 0) {  // waiting: started below, from the ring
      ++i;
    } else if (s.pts >= c.end) {
      close(i, events);
    } else {
      append(&c, s, events);
      ++i;
    }
  }
  if (ring_.empty() && !s.keyframe) return;  // the ring always starts at a keyframe
  ring_.push_back(std::move(s));
  // Before trimming: the ring still holds the keyframe at or before each waiting clip's start.
  for (std::size_t i = clips_.size(); i-- > 0;)
    if (clips_[i].start < 0 && ring_.back().pts >= clips_[i].nominal_start) start_clip(i, events);
  trim_ring();
}

// Starts clip i at the last keyframe at or before its nominal start (the
// ring's first sample, a keyframe, when the stream is younger) and hands it
// the ring from there; closes it at once when the ring already reaches its end.
void ClipPlanner::start_clip(std::size_t i, std::vector<ClipEvent>* events) {
  Clip& c = clips_[i];
  std::size_t first = 0;
  for (std::size_t k = 0; k < ring_.size(); ++k)
    if (ring_[k].keyframe && ring_[k].pts <= c.nominal_start) first = k;
  c.start = ring_[first].pts;
  update_end(&c);
  for (std::size_t k = first; k < ring_.size() && ring_[k].pts < c.end; ++k) append(&c, ring_[k], events);
  if (ring_.back().pts >= c.end) close(i, events);
}

void ClipPlanner::trim_ring() {
  // Drop everything before the last keyframe that still leaves `pre` of video before the newest sample.
  const std::int64_t keep_from = ring_.back().pts - options_.pre;
  std::size_t cut = 0;
  for (std::size_t i = 1; i < ring_.size(); ++i)
    if (ring_[i].keyframe && ring_[i].pts <= keep_from) cut = i;
  ring_.erase(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(cut));
}

void ClipPlanner::finish(std::vector<ClipEvent>* events) {
  // A clip still waiting for its start takes what the ring has.
  for (std::size_t i = clips_.size(); i-- > 0;)
    if (clips_[i].start < 0 && !ring_.empty()) start_clip(i, events);
  while (!clips_.empty()) close(0, events);
}

namespace {
std::string file_safe(const std::string& s) {
  std::string out = s;
  for (char& ch : out) {
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                    ch == '_' || ch == '-';
    if (!ok) ch = '_';
  }
  return out;
}
}  // namespace

std::string clip_file_name(const std::string& source, const std::string& run, std::uint64_t frame,
                           double unix_seconds) {
  const double whole = std::floor(unix_seconds);
  const std::time_t t = static_cast<std::time_t>(whole);
  const int ms = std::min(999, static_cast<int>((unix_seconds - whole) * 1000.0));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
  char when[48];
  std::snprintf(when, sizeof when, "%s.%03dZ", stamp, ms);
  std::string name;
  if (!source.empty()) name += file_safe(source) + "_";
  if (!run.empty()) name += file_safe(run) + "_";
  return name + "f" + std::to_string(frame) + "_" + when + ".mp4";
}

}  // namespace advad::record
