// Profile: everything one category tunes, loaded from a GKeyFile (.ini).
// The file format is documented in README.md ("Profile format").
#pragma once
#include <array>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace advad {

enum class MergeMode { Paste, Mean, Max };
// How overlapping tiles are weighted when merge=mean: flat weights, or a
// separable Hann-like window that fades toward tile borders.
enum class BlendMode { None, Hann };
// Resize filter used to bring a tile to the model input size.
//  pil-bilinear: PIL/torchvision bilinear with antialiasing on downscale
//  linear: cv::resize INTER_LINEAR (what CPR's cv2 code does)
//  area: cv::resize INTER_AREA
enum class ResizeFilter { PilBilinear, Linear, Area };

std::string to_string(MergeMode m);
std::string to_string(BlendMode m);
std::string to_string(ResizeFilter f);

// Parse the names used in profiles and element properties. Each throws
// ProfileError("bad value 'x'; accepted: a | b | c") without file context.
// parse_method: the name itself when a backend of this build has it (core/backend_registry.h).
std::string parse_method(const std::string& s);
MergeMode parse_merge_mode(const std::string& s);
BlendMode parse_blend_mode(const std::string& s);
ResizeFilter parse_resize_filter(const std::string& s);
// OpenCV colormap id (cv::COLORMAP_*) of a name such as "jet", "turbo", "inferno".
int colormap_id(const std::string& name);
const std::vector<std::string>& colormap_names();

struct InputSpec {
  int width = 448;   // model input size after resize (before crop)
  int height = 448;
  int crop = 0;      // center crop side after resize; 0 = no crop
  ResizeFilter resize = ResizeFilter::PilBilinear;
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

// One grid of the tile pyramid: cols x rows tiles covering the whole frame.
struct GridLevel {
  int cols = 1;
  int rows = 1;
};
// "4x2" -> {4,2}; "1x1;2x2" (or with ',') -> two levels. ProfileError on bad text,
// including an empty level ("2x2;;", "2x2;", ";2x2").
std::vector<GridLevel> parse_levels(const std::string& s);
// Morphology kernel: "80x80" -> {80,80}; "15" -> {15,15}; "off" / "0" / "0x0" -> {0,0}.
// Sides 1..1000. ProfileError naming the text and the accepted forms.
std::pair<int, int> parse_kernel(const std::string& text);
std::string to_string(const std::vector<GridLevel>& levels);

struct TilingSpec {
  std::vector<GridLevel> levels{GridLevel{}};  // default: the full frame
  double overlap = 0.0;   // fraction of a tile shared with its neighbour, [0, 0.5)
  MergeMode merge = MergeMode::Paste;
  BlendMode blend = BlendMode::None;
};

struct PostprocSpec {
  int blur_ksize = 0;        // gaussian blur of the float map before threshold; 0 = off
  double blur_sigma = 0.0;
  int close_w = 0, close_h = 0;  // rectangular closing kernel; 0 = off
  int erode_w = 0, erode_h = 0;  // rectangular erosion kernel; 0 = off
  bool fill_holes = false;       // flood fill from (0,0), 4-connected, as the seed
  double fill_fallback = 0.95;   // if > this fraction is white after close+fill, keep the input mask
  int min_area = 0;              // drop regions smaller than this many pixels; 0 = off
  bool foreground_gate = false;  // AND the mask with a k-means (H,V) foreground of the frame
  int foreground_dilate = 15;    // dilation of that foreground (square side)
};

struct OverlaySpec {
  double opacity = 0.45;            // heatmap alpha
  std::string colormap = "jet";     // any OpenCV colormap name (jet, turbo, inferno, ...)
  bool heatmap = true;
  bool contours = true;
  bool boxes = true;
  bool label = true;
  // The heatmap is drawn only where the map is >= this score (model units);
  // unset: half the threshold used for the frame.
  std::optional<double> heatmap_floor;
};

struct Profile {
  std::string path;       // the .ini this was loaded from ("" when built in code)
  std::string category;   // [profile] category
  std::string method = "torchscript";  // a registered backend (core/backend_registry.h)
  std::string model;      // absolute path of the model package / file (resolved against the ini's folder)
  // [profile] precision: "" (not set) | auto | fp32 | fp16 | bf16 | int8. Pins the arithmetic
  // precision when the element property / --precision is auto (see resolve_precision).
  std::string precision;
  InputSpec input;
  TilingSpec tiling;
  // Threshold in the model's float score units: a pixel is defective if s >= threshold.
  double threshold = 0.5;
  // Named thresholds (e.g. "test_private", "test_private_mixed") from [threshold].
  std::map<std::string, double> split_thresholds;
  PostprocSpec post;
  // Post-processing overrides per split (e.g. walnuts gates the mixed split only).
  std::map<std::string, PostprocSpec> split_post;
  OverlaySpec overlay;
  // Method-specific keys ([inpformer] / [cpr] groups), validated by the method's loader.
  std::map<std::string, std::map<std::string, std::string>> method_groups;

  // Threshold / post-processing for a named split, falling back to the defaults.
  double threshold_for(const std::string& split) const;
  const PostprocSpec& post_for(const std::string& split) const;
  // The splits this profile defines: the [threshold] keys other than
  // 'default' and the <split> of every [postproc.<split>] group, sorted.
  std::vector<std::string> split_names() const;
  // Throws ProfileError naming the profile file, the split and the defined
  // splits unless `split` is empty (the defaults) or one of split_names().
  void check_split(const std::string& split) const;
};

// Parse and strictly validate a profile. Throws ProfileError naming file,
// group, key and the accepted values. If check_model_file is true, a missing
// model file/package is an error too.
Profile load_profile(const std::string& path, bool check_model_file = true);

// Write a profile back (used by calibrate / train). Keeps unknown-to-us comments out.
void save_profile(const Profile& p, const std::string& path);

}  // namespace advad
