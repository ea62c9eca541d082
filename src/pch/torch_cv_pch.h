// Precompiled header (Meson cpp_pch, -include'd into every source of a target
// that names it): LibTorch's tensor API and OpenCV core/imgproc, the system
// headers most sources of src/core, src/cpr and gst/ (the elements) include.
// Library headers only -- no project headers, no macros -- so each source
// compiles the same with or without it (meson setup -Db_pch=false builds
// without). Measured: a torch/types.h source ~5-6 s of CPU less each, ~20 s
// to build the .gch once per target.
#include <torch/types.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
