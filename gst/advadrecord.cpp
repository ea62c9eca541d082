#include "advadrecord.h"

#include <opencv2/core.hpp>

advad::FrameRecord advad_frame_record(GstBuffer* buf, const GstVideoInfo* info, const AdvadFrameResult* res,
                                      guint64 own_count, const std::string& run, const std::string& source,
                                      bool contours) {
  advad::FrameRecord r;
  r.frame = res ? res->frame_number : own_count;
  r.run = res && !res->run.empty() ? res->run : run;  // one run id for all elements behind one advadinfer
  if (res && res->profile) r.category = res->profile->category;
  if (GST_BUFFER_PTS_IS_VALID(buf)) r.pts_ns = static_cast<std::int64_t>(GST_BUFFER_PTS(buf));
  r.wall_time = advad::wall_clock_now();
  r.source = source;
  r.width = GST_VIDEO_INFO_WIDTH(info);
  r.height = GST_VIDEO_INFO_HEIGHT(info);
  r.with_contours = contours;
  if (!res) return r;
  r.model = res->model_id;
  r.carried = res->carried;
  r.unscored_reason = res->unscored_reason;
  r.clip = res->clip;
  if (!res->map || !res->unscored_reason.empty()) return r;
  r.scored = true;
  r.scored_frame = res->scored_frame;
  // Without advadpostproc the score is still the map's maximum (the threshold's scale).
  r.score = static_cast<float>(res->map->max_value());  // a device map: one scalar, not the map
  r.image_score = res->map->score;
  if (res->detection) {
    r.score = res->detection->score;
    r.threshold = res->threshold;
    r.anomalous = res->detection->anomalous;
    r.regions = res->detection->regions;
  }
  return r;
}
