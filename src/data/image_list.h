// The one way advad lists the images in a folder (datasets, training folders,
// texture libraries, defect patches, `advad run <folder>`).
//
// The rule:
// - An image is a file whose extension is one of image_extensions() -- .png
//   .jpg .jpeg .bmp .tif .tiff .webp -- compared case-insensitively (a.PNG
//   counts), or one of ImageListOptions::extensions when a caller narrows it.
// - Names starting with '.' are skipped: hidden files (e.g. macOS "._a.png"
//   resource forks, which are not images) and, when recursive, hidden folders
//   (.git, .ipynb_checkpoints).
// - Symbolic links are followed: a link to an image counts as that image, a
//   link to a folder is entered when recursive (each real folder once, so a
//   link loop ends).
// - A dangling symbolic link or an entry whose type cannot be read, if its
//   name is an image name, and a folder that cannot be listed are errors: an
//   InputError naming the entry. Nothing that looks like an image is skipped
//   silently.
// - The result is sorted by the path relative to `dir` ("a/b.png" as text,
//   byte order, '/' as separator), so the order is the same on every machine.
// - A missing folder is an InputError naming it; an empty result is returned
//   as is (each caller says what it needed).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace advad {

struct ImageListOptions {
  bool recursive = false;
  // Lower-case extensions with the dot (".png"); empty = image_extensions().
  std::vector<std::string> extensions;
};

// The accepted image extensions, lower case with the dot.
const std::vector<std::string>& image_extensions();

// True when `path` ends in one of image_extensions(), any case.
bool has_image_extension(const std::filesystem::path& path);

// The images under `dir` (each dir / relative path), by the rule above.
std::vector<std::filesystem::path> list_images(const std::filesystem::path& dir, const ImageListOptions& options = {});

}  // namespace advad
