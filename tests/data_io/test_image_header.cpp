// Image sizes read from file headers and the pixel limit checked before
// decoding (data/image_header.h); fixtures are the image fuzz corpus.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "core/error.h"
#include "data/image_header.h"
#include "data/image_io.h"
#include "test_support.h"

namespace advad {
namespace {

std::string corpus(const std::string& name) { return test::test_data("fuzz/image/" + name); }

TEST(ImageHeader, DimsOfEachFormatMatchTheDecodedImage) {
  for (const char* name : {"rgb.jpg", "rgb.png", "gray16.png", "rgb.tif", "map_f16.tif", "gray.bmp"}) {
    const auto dims = header_image_dims(corpus(name));
    ASSERT_TRUE(dims.has_value()) << name;
    // OpenCV cannot read float16 TIFFs: the map reader (libtiff) decodes that one.
    const std::string file = corpus(name);
    const cv::Mat m = file.find("map_f16") != std::string::npos ? read_map(file) : cv::imread(file, cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(m.empty()) << name;
    EXPECT_EQ(dims->width, m.cols) << name;
    EXPECT_EQ(dims->height, m.rows) << name;
  }
}

TEST(ImageHeader, UnknownFormatTellsNothing) {
  test::TempDir dir("imghdr");
  EXPECT_FALSE(header_image_dims(dir.write("x.webp", "RIFF....WEBPVP8 ")).has_value());
  EXPECT_FALSE(header_image_dims(dir.write("short.png", "\x89PNG")).has_value());
}

// Headers declaring 30000x30000 (PNG, JPEG) and 40000x40000 (TIFF) pixels in a few
// hundred bytes: refused before decoding (OpenCV and libtiff allocated 2.7-3.2 GB).
TEST(ImageHeader, SizeBombsAreRefusedBeforeDecoding) {
  test::expect_error<InputError>([] { read_image_rgb(corpus("oom-png-header-30000x30000.png")); },
                                 {"image", "oom-png-header-30000x30000.png", "declares 30000x30000"});
  test::expect_error<InputError>([] { read_binary_mask(corpus("oom-jpeg-sof-30000x30000.jpg")); },
                                 {"mask", "oom-jpeg-sof-30000x30000.jpg", "declares 30000x30000", "2^28"});
  test::expect_error<InputError>([] { read_map(corpus("oom-tiff-tags-40000x40000.tif")); },
                                 {"oom-tiff-tags-40000x40000.tif", "declares 40000x40000", "accepted"});
}

TEST(ImageHeader, LimitIsInclusiveAndSidesMustBePositive) {
  EXPECT_NO_THROW(check_image_dims(16384, 16384, "f.png", "image"));
  EXPECT_THROW(check_image_dims(16384, 16385, "f.png", "image"), InputError);
  EXPECT_THROW(check_image_dims(0, 5, "f.png", "image"), InputError);
  EXPECT_THROW(check_image_dims(5, -1, "f.png", "image"), InputError);
  EXPECT_THROW(check_image_dims(int64_t{1} << 40, 1, "f.png", "image"), InputError);
}

}  // namespace
}  // namespace advad
