// score_image: the smallest program on libadvad. Reads an image file, scores
// it with a profile and prints the verdict, the scores and the defect regions.
//   score_image <profile.ini | package folder> <image> [--threads N]
// Output (one "key: value" per line, stable for scripts and the tests):
//   verdict: defect | ok
//   score: <frame score, threshold scale>     image_score: <method's score>
//   threshold: <T>                            regions: <N>
//   region: x y width height area max_score   (N lines)
// Exit status: 0 ok, 1 defect, 2 error (message on stderr).
// Build against an installed advad:
//   c++ -std=c++17 score_image.cpp $(pkg-config --cflags --libs libadvad opencv4)
#include <advad/advad.h>

#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 5 && std::string(argv[3]) == "--threads")) {
    std::cerr << "usage: score_image <profile.ini | package folder> <image> [--threads N]\n";
    return 2;
  }
  // OpenCV only reads the file: the library takes plain pixel views.
  const cv::Mat bgr = cv::imread(argv[2], cv::IMREAD_COLOR);
  if (bgr.empty()) {
    std::cerr << "score_image: cannot read image '" << argv[2] << "'\n";
    return 2;
  }
  try {
    advad::DetectorOptions options;
    if (argc == 5) options.threads = std::atoi(argv[4]);
    advad::Detector detector(argv[1], options);
    advad::ImageView view;
    view.data = bgr.data;
    view.width = bgr.cols;
    view.height = bgr.rows;
    view.stride = bgr.step;
    view.format = advad::ImageFormat::BGR8;
    const advad::FrameResult r = detector.score(view);

    std::cout << std::setprecision(9);  // every float digit: comparable with the CLI's JSON
    std::cout << "verdict: " << (r.anomalous ? "defect" : "ok") << "\n"
              << "score: " << r.score << "\n"
              << "image_score: " << r.image_score << "\n"
              << "threshold: " << r.threshold << "\n"
              << "regions: " << r.regions.size() << "\n";
    for (const advad::DefectRegion& g : r.regions)
      std::cout << "region: " << g.x << " " << g.y << " " << g.width << " " << g.height << " " << g.area << " "
                << g.max_score << "\n";
    return r.anomalous ? 1 : 0;
  } catch (const advad::Error& e) {
    std::cerr << "score_image: " << e.what() << "\n";
    return 2;
  }
}
