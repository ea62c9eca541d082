// The defect-clip planner on made-up encoder output: 10 fps, a keyframe every
// `gop` frames; times in ns.
#include <gtest/gtest.h>

#include <regex>

#include "record/clip_planner.h"

namespace advad::record {
namespace {

constexpr std::int64_t S = 1000000000, FRAME = S / 10;

struct Feed {
  ClipPlanner planner;
  int gop;
  std::vector<ClipEvent> events;
  int next = 0;  // next frame to encode
  Feed(double pre, double post, double max, int gop_frames)
      : planner(ClipOptions{static_cast<std::int64_t>(pre * S), static_cast<std::int64_t>(post * S),
                            static_cast<std::int64_t>(max * S)}),
        gop(gop_frames) {}
  void encode_until(int frame) {  // frames [next, frame)
    for (; next < frame; ++next)
      planner.sample(EncodedSample{next * FRAME, FRAME, next % gop == 0, std::make_shared<int>(next)}, &events);
  }
  // A defect on `frame`: the encoder is `lag` frames behind the detector.
  DefectOutcome defect(int frame, int lag = 2, bool may_open = true) {
    encode_until(std::max(next, frame - lag));
    return planner.defect(frame * FRAME, frame, "clip" + std::to_string(frame) + ".mp4", may_open, &events);
  }
  std::vector<ClipSummary> closed() const {
    std::vector<ClipSummary> out;
    for (const auto& e : events)
      if (e.kind == ClipEvent::Kind::Close) out.push_back(e.summary);
    return out;
  }
  // The frame numbers (payloads) each clip received, in order.
  std::vector<int> frames_of(std::uint64_t clip) const {
    std::vector<int> out;
    for (const auto& e : events)
      if (e.kind == ClipEvent::Kind::Sample && e.clip == clip) out.push_back(*static_cast<int*>(e.sample.payload.get()));
    return out;
  }
};

TEST(ClipPlanner, PreRollRingIsBoundedAndStartsAtAKeyframe) {
  Feed r(2.0, 1.0, 0, 10);
  for (int f = 1; f <= 95; ++f) {
    r.encode_until(f);
    const auto& ring = r.planner.ring();
    ASSERT_FALSE(ring.empty());
    EXPECT_TRUE(ring.front().keyframe) << "frame " << f;
    const std::int64_t span = ring.back().pts - ring.front().pts;
    // At least `pre` once the stream is that old, at most pre + one GOP.
    if (ring.back().pts >= 2 * S) {
      EXPECT_GE(span, 2 * S) << "frame " << f;
    }
    EXPECT_LT(span, 2 * S + 10 * FRAME) << "frame " << f;
  }
  EXPECT_TRUE(r.events.empty()) << "no defect, no clip";
}

TEST(ClipPlanner, RingWithoutPreRollKeepsTheCurrentGop) {
  Feed r(0.0, 1.0, 0, 5);
  r.encode_until(13);  // keyframes 0, 5, 10
  ASSERT_EQ(r.planner.ring().size(), 3u);
  EXPECT_EQ(r.planner.ring().front().pts, 10 * FRAME);
}

TEST(ClipPlanner, SamplesBeforeTheFirstKeyframeAreNeverKept) {
  ClipPlanner p(ClipOptions{S, S, 0});
  std::vector<ClipEvent> ev;
  p.sample(EncodedSample{0, FRAME, false, nullptr}, &ev);
  EXPECT_TRUE(p.ring().empty());
  p.sample(EncodedSample{FRAME, FRAME, true, nullptr}, &ev);
  EXPECT_EQ(p.ring().size(), 1u);
}

TEST(ClipPlanner, IsolatedDefectsMakeOneClipEachOfAboutPrePlusPost) {
  Feed r(2.0, 2.0, 0, 10);
  EXPECT_EQ(r.defect(35).kind, DefectOutcome::Kind::Opened);
  EXPECT_EQ(r.defect(90).kind, DefectOutcome::Kind::Opened);
  r.encode_until(150);
  const auto clips = r.closed();
  ASSERT_EQ(clips.size(), 2u);
  // Defect at 3.5 s, pre 2 s: nominal start 1.5 s, last keyframe before it 1.0 s; end before 5.5 s.
  EXPECT_EQ(clips[0].first_pts, 10 * FRAME);
  EXPECT_EQ(clips[0].last_pts, 54 * FRAME);
  EXPECT_EQ(clips[0].end_pts - clips[0].first_pts, 45 * FRAME);  // pre + post + half a GOP
  EXPECT_EQ(clips[0].defect_frames, std::vector<std::uint64_t>{35});
  // Defect at 9.0 s on a keyframe boundary minus pre: 7.0 .. 11.0 s exactly.
  EXPECT_EQ(clips[1].first_pts, 70 * FRAME);
  EXPECT_EQ(clips[1].end_pts, 110 * FRAME);
  for (const auto& c : clips) {
    const std::int64_t d = c.end_pts - c.first_pts;
    EXPECT_GE(d, 4 * S);
    EXPECT_LT(d, 4 * S + 10 * FRAME);  // within one keyframe interval
    EXPECT_EQ(c.samples, static_cast<std::uint64_t>(d / FRAME));
  }
  // Every sample in order, no gaps, starting at a keyframe.
  const auto f = r.frames_of(clips[0].id);
  ASSERT_EQ(f.size(), 45u);
  for (std::size_t i = 0; i < f.size(); ++i) EXPECT_EQ(f[i], 10 + static_cast<int>(i));
}

TEST(ClipPlanner, AnEncoderFarBehindTheDetectorStillGivesThePreRoll) {
  Feed r(1.0, 1.0, 0, 10);
  const auto a = r.defect(35, 30);  // only frames 0..4 encoded when the defect is seen
  EXPECT_EQ(a.kind, DefectOutcome::Kind::Opened);
  EXPECT_EQ(r.defect(40, 30).kind, DefectOutcome::Kind::Extended);
  r.encode_until(80);
  const auto clips = r.closed();
  ASSERT_EQ(clips.size(), 1u);
  EXPECT_EQ(clips[0].first_pts, 20 * FRAME) << "last keyframe at or before 3.5 s - 1 s";
  EXPECT_EQ(clips[0].end_pts, 50 * FRAME);
  EXPECT_EQ(r.frames_of(clips[0].id).size(), 30u);
}

TEST(ClipPlanner, OverlappingDefectsExtendOneClip) {
  Feed r(1.0, 1.0, 0, 10);
  const auto a = r.defect(30);
  const auto b = r.defect(38);  // before 3.0 + 1.0
  const auto c = r.defect(47);  // before 3.8 + 1.0
  EXPECT_EQ(a.kind, DefectOutcome::Kind::Opened);
  EXPECT_EQ(b.kind, DefectOutcome::Kind::Extended);
  EXPECT_EQ(c.kind, DefectOutcome::Kind::Extended);
  EXPECT_EQ(b.name, a.name) << "the extending frame names the clip that holds it";
  EXPECT_EQ(c.clip, a.clip);
  r.encode_until(100);
  const auto clips = r.closed();
  ASSERT_EQ(clips.size(), 1u);
  EXPECT_EQ(clips[0].first_pts, 20 * FRAME);
  EXPECT_EQ(clips[0].end_pts, 57 * FRAME);  // last defect + post
  EXPECT_EQ(clips[0].defect_frames, (std::vector<std::uint64_t>{30, 38, 47}));
  // A defect after the end opens a new clip.
  EXPECT_EQ(r.defect(120).kind, DefectOutcome::Kind::Opened);
}

TEST(ClipPlanner, MaxDurationCapsAClipAndALaterDefectOpensTheNext) {
  Feed r(1.0, 2.0, 4.0, 10);
  const auto a = r.defect(20);  // clip 1.0 s .. capped at 5.0 s
  EXPECT_EQ(r.defect(35).kind, DefectOutcome::Kind::Extended);
  EXPECT_EQ(r.defect(45).kind, DefectOutcome::Kind::Extended);  // 4.5 < cap 5.0, end stays 5.0
  const auto d = r.defect(52);  // past the cap
  EXPECT_EQ(d.kind, DefectOutcome::Kind::Opened);
  EXPECT_NE(d.clip, a.clip);
  r.encode_until(100);
  const auto clips = r.closed();
  ASSERT_EQ(clips.size(), 2u);
  EXPECT_EQ(clips[0].first_pts, 10 * FRAME);
  EXPECT_EQ(clips[0].end_pts - clips[0].first_pts, 4 * S) << "capped at max-duration";
  EXPECT_EQ(clips[1].first_pts, 40 * FRAME) << "the next clip has its own pre-roll";
  EXPECT_EQ(clips[1].end_pts, 72 * FRAME);
}

TEST(ClipPlanner, ACapBelowPreStillHoldsTheDefectFrame) {
  Feed r(3.0, 1.0, 1.0, 10);
  r.defect(50);
  r.encode_until(100);
  const auto clips = r.closed();
  ASSERT_EQ(clips.size(), 1u);
  EXPECT_LE(clips[0].first_pts, 50 * FRAME);
  EXPECT_GE(clips[0].last_pts, 50 * FRAME);
}

TEST(ClipPlanner, FinishClosesOpenClipsWithAShorterPost) {
  Feed r(1.0, 5.0, 0, 10);
  r.defect(20);
  r.encode_until(40);
  EXPECT_TRUE(r.closed().empty());
  EXPECT_EQ(r.planner.open_clips(), 1u);
  r.planner.finish(&r.events);
  const auto clips = r.closed();
  ASSERT_EQ(clips.size(), 1u);
  EXPECT_EQ(clips[0].first_pts, 10 * FRAME);
  EXPECT_EQ(clips[0].last_pts, 39 * FRAME);
  EXPECT_EQ(r.planner.open_clips(), 0u);
}

TEST(ClipPlanner, AFullWriterDropsTheNewClipButNotExtensions) {
  Feed r(1.0, 1.0, 0, 10);
  EXPECT_EQ(r.defect(20, 2, true).kind, DefectOutcome::Kind::Opened);
  EXPECT_EQ(r.defect(25, 2, false).kind, DefectOutcome::Kind::Extended);
  EXPECT_EQ(r.defect(60, 2, false).kind, DefectOutcome::Kind::Dropped);
  r.encode_until(100);
  EXPECT_EQ(r.closed().size(), 1u);
}

TEST(ClipPlanner, ADefectBeforeAnyKeyframeWaitsForOne) {
  Feed r(1.0, 1.0, 0, 10);
  r.planner.defect(0, 0, "x.mp4", true, &r.events);  // nothing encoded yet
  r.encode_until(30);
  const auto clips = r.closed();
  ASSERT_EQ(clips.size(), 1u);
  EXPECT_EQ(clips[0].first_pts, 0);
  EXPECT_EQ(clips[0].end_pts, 10 * FRAME);
}

TEST(ClipPlanner, AStreamThatStartsOverClosesClipsAndEmptiesTheRing) {
  Feed r(1.0, 5.0, 0, 10);
  r.defect(20);
  r.encode_until(30);
  r.planner.sample(EncodedSample{0, FRAME, true, nullptr}, &r.events);  // pts back to 0
  EXPECT_EQ(r.closed().size(), 1u);
  EXPECT_EQ(r.planner.ring().size(), 1u);
}

TEST(ClipFileName, SourceRunFrameAndUtcTime) {
  // 2026-12-05 13:14:55.250 UTC
  EXPECT_EQ(clip_file_name("line-3", "20261205T131455Z-3fa9c2", 42, 1796476495.25),
            "line-3_20261205T131455Z-3fa9c2_f42_20261205T131455.250Z.mp4");
  EXPECT_EQ(clip_file_name("", "", 7, 0.0), "f7_19700101T000000.000Z.mp4");
  const std::string odd = clip_file_name("cam 1/a:b", "r", 1, 1.9996);
  EXPECT_EQ(odd.substr(0, 10), "cam_1_a_b_");
  EXPECT_TRUE(std::regex_match(odd, std::regex(R"(cam_1_a_b_r_f1_19700101T000001\.999Z\.mp4)"))) << odd;
}

}  // namespace
}  // namespace advad::record
