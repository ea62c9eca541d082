// advad make-demo: a self-contained demo — the TorchScript demo scorer as a
// model package, synthetic frames with planted defects (PNG + labels), and
// optionally a video of them. No download, no Python, no training.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "core/demo_model.h"
#include "core/error.h"
#include "core/model.h"
#include "core/postproc.h"
#include "core/tile_layout.h"
#include "engine/model_factory.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace fs = std::filesystem;

namespace advad::tools {

namespace {

// Runs the written package over the frames; returns how many labels it got wrong.
int verify(const std::string& ini, const std::vector<cv::Mat>& frames, const std::vector<cv::Rect>& boxes,
           const std::vector<std::string>& names) {
  Profile p = load_profile(ini);
  ModelOptions mo;
  mo.device = "cpu";
  auto model = create_model(p, mo);
  int wrong = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    TileLayout layout = make_tile_layout(frames[i].cols, frames[i].rows, p.tiling);
    std::vector<cv::Size> sizes;
    for (const auto& t : layout.tiles) sizes.push_back(t.rect.size());
    ScoredBatch sb = model->score(make_batch(frames[i], layout, p.input, model->device()), sizes);
    AnomalyMap am = stitch(sb.maps, sb.scores, layout);
    Detection d = postprocess(am.host_map(), am.score, p.threshold, p.post, frames[i]);
    bool hit = false;
    for (const auto& r : d.regions) hit = hit || (r.box & boxes[i]).area() > 0;
    const bool planted = !boxes[i].empty();
    const bool ok = planted ? hit && d.regions.size() == 1 : !d.anomalous;
    wrong += ok ? 0 : 1;
    std::cout << names[i] << ": score " << am.score << ", " << d.regions.size() << " region(s)"
              << (planted ? ", defect planted" : ", clean") << (ok ? "  ok" : "  WRONG") << "\n";
  }
  return wrong;
}

// The blob's pixels: the same seed without a defect draws the same texture and
// noise (the blob is drawn last), so the frames differ exactly where it is.
void write_blob_mask(const cv::Mat& rgb, int w, int h, int seed, int i, const fs::path& dir, const std::string& name) {
  const cv::Mat clean = make_synthetic_frame(w, h, false, static_cast<uint32_t>(seed) * 7919u + static_cast<uint32_t>(i));
  cv::Mat diff, mask;
  cv::absdiff(rgb, clean, diff);
  cv::transform(diff, mask, cv::Matx13f(1, 1, 1));  // any channel differs (saturating sum)
  cv::threshold(mask, mask, 0, 255, cv::THRESH_BINARY);
  fs::create_directories(dir);
  const std::string file = (dir / (fs::path(name).stem().string() + "_mask.png")).string();
  if (!cv::imwrite(file, mask)) throw InputError("cannot write " + file);
}

}  // namespace

int cmd_make_demo(int argc, char** argv) {
  cli::Args args("make-demo",
                 "Write a demo kit into <out_dir>: model/ (a TorchScript scorer built in C++ + profile.ini,\n"
                 "method = torchscript: map = |gray - local mean| scaled so ~20 gray levels reach the\n"
                 "threshold 0.5), frames/frame_NNNN.png (smooth synthetic texture, every K-th frame with a\n"
                 "planted bright or dark blob) and frames/labels.csv (file,defect,x,y,w,h of each blob).");
  args.positional("out_dir", "folder to write (created if missing)")
      .option("frames", "N", "number of frames to write (0 = only the model package)", "8")
      .option("width", "W", "frame width in pixels (>= 32)", "640")
      .option("height", "H", "frame height in pixels (>= 32)", "480")
      .option("defect-every", "K", "plant a defect in every K-th frame, starting with the 2nd (0 = never)", "2")
      .option("seed", "S", "seed of the synthetic frames (same seed, same frames)", "1")
      .option("video", "FILE", "also write the frames as a video (.avi: MJPG, .mp4: mp4v), relative to out_dir")
      .option("fps", "F", "frame rate of --video", "10")
      .option("input-size", "N", "model input side the demo profile resizes tiles to", "256")
      .option("tiling", "GRID", "tiling of the demo profile, COLSxROWS (';' for pyramid levels)", "2x2")
      .option("overlap", "F", "fraction of a tile shared with each neighbour, in [0, 0.5): > 0 merges tiles by mean "
                              "with Hann blending (a map without seams), 0 pastes them side by side as the seed does",
              "0.25")
      .option("threshold", "T", "threshold of the demo profile (score >= T is a defect)", "0.5")
      .flag("masks", "also write frames/masks/frame_NNNN_mask.png (0/255, the planted blob's exact pixels) for every "
                     "frame with a defect: ground truth in the MVTec AD 2 naming, for advad eval and calibrate --labelled")
      .flag("verify", "run the written package over the frames and report each verdict (exit 1 on a wrong one)")
      .quiet_flag();
  if (!args.parse(argc, argv)) return 0;

  const fs::path out = args.positionals()[0];
  const int n = args.integer("frames"), w = args.integer("width"), h = args.integer("height");
  const int every = args.integer("defect-every"), seed = args.integer("seed");
  if (n < 0) throw cli::UsageError("advad make-demo: --frames must be >= 0");
  if (w < 32 || h < 32) throw cli::UsageError("advad make-demo: --width and --height must be >= 32");
  if (every < 0) throw cli::UsageError("advad make-demo: --defect-every must be >= 0");
  // Checked even without --video (where it is used): a bad value is never ignored.
  if (!(args.number("fps") > 0 && args.number("fps") <= 1000))
    throw cli::UsageError("advad make-demo: --fps must be in (0, 1000], got '" + args.str("fps") + "'");
  DemoOptions opt;
  opt.input_size = args.integer("input-size");
  if (opt.input_size < 32 || opt.input_size > 4096)
    throw cli::UsageError("advad make-demo: --input-size must be in 32..4096");
  opt.threshold = args.number("threshold");
  // The range a profile's [threshold] accepts: refused here, naming the flag, before anything is written.
  if (!(opt.threshold >= -1e9 && opt.threshold <= 1e9))
    throw cli::UsageError("advad make-demo: --threshold " + args.str("threshold") + " is outside the profile's range [-1e9, 1e9]");
  opt.overlap = args.number("overlap");
  if (opt.overlap < 0 || opt.overlap >= 0.5)
    throw cli::UsageError("advad make-demo: --overlap " + args.str("overlap") + " is outside [0, 0.5)");
  try {
    opt.levels = parse_levels(args.str("tiling"));
  } catch (const ProfileError& e) {
    throw cli::UsageError(std::string("advad make-demo: --tiling: ") + e.what());
  }
  for (const auto& g : opt.levels)
    if (g.cols > w || g.rows > h) throw cli::UsageError("advad make-demo: --tiling has more tiles than pixels");

  const std::string ini = write_demo_package((out / "model").string(), opt);
  std::cout << "model package: " << (out / "model").string() << " (profile " << ini << ")\n";
  if (n == 0) return 0;

  const fs::path frames_dir = out / "frames";
  fs::create_directories(frames_dir);
  cv::VideoWriter video;
  std::string video_path;
  if (args.has("video")) {
    video_path = (out / args.str("video")).string();
    const std::string ext = fs::path(video_path).extension().string();
    const int fourcc = ext == ".avi" ? cv::VideoWriter::fourcc('M', 'J', 'P', 'G')
                       : ext == ".mp4" ? cv::VideoWriter::fourcc('m', 'p', '4', 'v')
                                       : 0;
    if (fourcc == 0) throw InputError("--video " + video_path + ": use a .avi or .mp4 file name");
    if (!video.open(video_path, fourcc, args.number("fps"), cv::Size(w, h)))
      throw InputError("--video " + video_path + ": OpenCV cannot write this format here (try .avi)");
  }
  std::ofstream labels(frames_dir / "labels.csv");
  labels << "file,defect,x,y,w,h\n";
  std::vector<cv::Mat> frames;
  std::vector<cv::Rect> boxes;
  std::vector<std::string> names;
  cli::Progress progress("make-demo", n);
  for (int i = 0; i < n; ++i) {
    const bool defect = every > 0 && (i + 1) % every == 0;
    cv::Rect box;
    cv::Mat rgb = make_synthetic_frame(w, h, defect, static_cast<uint32_t>(seed) * 7919u + static_cast<uint32_t>(i), &box);
    char name[32];
    std::snprintf(name, sizeof name, "frame_%04d.png", i);
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    const std::string file = (frames_dir / name).string();
    if (!cv::imwrite(file, bgr)) throw InputError("cannot write " + file);
    if (defect && args.on("masks")) write_blob_mask(rgb, w, h, seed, i, frames_dir / "masks", name);
    if (video.isOpened()) video.write(bgr);
    labels << name << "," << (defect ? 1 : 0) << "," << box.x << "," << box.y << "," << box.width << ","
           << box.height << "\n";
    if (args.on("verify")) {
      frames.push_back(rgb);
      boxes.push_back(box);
      names.push_back(name);
    }
    progress.update(i + 1);
  }
  progress.finish();
  if (!labels) throw InputError("cannot write " + (frames_dir / "labels.csv").string());
  std::cout << "frames: " << n << " PNGs in " << frames_dir.string() << " (labels.csv)\n";
  if (video.isOpened()) std::cout << "video: " << video_path << "\n";
  if (args.on("verify")) {
    const int wrong = verify(ini, frames, boxes, names);
    std::cout << "verify: " << (n - wrong) << "/" << n << " frames judged right\n";
    return wrong == 0 ? 0 : 1;
  }
  return 0;
}

}  // namespace advad::tools
