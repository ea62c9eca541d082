// The JSON-line record of one frame, built from its GstAdvadMeta: the one
// schema advadoverlay's json-location and advadpublish write.
#pragma once
#include <gst/gst.h>
#include <gst/video/video.h>

#include <string>

#include "advadmeta.h"
#include "render/frame_json.h"

// `res` may be null (the frame carries no result: "unscored", "no-result");
// `own_count` is then the frame number. `run` (the caller's own run id) is
// used only when the frame's meta has none from advadinfer. `run` and
// `source` may be "".
advad::FrameRecord advad_frame_record(GstBuffer* buf, const GstVideoInfo* info, const AdvadFrameResult* res,
                                      guint64 own_count, const std::string& run, const std::string& source,
                                      bool contours);
