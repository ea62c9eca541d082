// list_images (src/data/image_list.h): the one folder-listing rule, with the
// cases where the five listings it replaced used to differ.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "data/dataset.h"
#include "data/image_list.h"
#include "test_support.h"

using namespace advad;
namespace fs = std::filesystem;

namespace {

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

// Relative generic paths of a listing, for comparisons.
std::vector<std::string> rel(const std::vector<fs::path>& paths, const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(p.lexically_relative(dir).generic_string());
  return out;
}

std::string list_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ImageList, ExtensionsAnyCaseIncludingTiffAndWebp) {
  test::TempDir tmp("imglist");
  for (const char* n : {"a.png", "b.PNG", "c.jpg", "d.JPEG", "e.bmp", "f.tif", "g.TIFF", "h.webp", "i.txt",
                        "j.png.bak", "k", "l.gif"})
    touch(tmp.path() / n);
  EXPECT_EQ(rel(list_images(tmp.path()), tmp.path()),
            (std::vector<std::string>{"a.png", "b.PNG", "c.jpg", "d.JPEG", "e.bmp", "f.tif", "g.TIFF", "h.webp"}));
  EXPECT_TRUE(has_image_extension("x/y.TiF"));
  EXPECT_TRUE(is_image_file("y.webp"));  // dataset.h's test is the same rule
  EXPECT_FALSE(has_image_extension("y.gif"));
}

TEST(ImageList, NarrowedExtensions) {
  test::TempDir tmp("imglist");
  for (const char* n : {"a.png", "b.PNG", "c.jpg"}) touch(tmp.path() / n);
  EXPECT_EQ(rel(list_images(tmp.path(), {false, {".png"}}), tmp.path()), (std::vector<std::string>{"a.png", "b.PNG"}));
}

TEST(ImageList, RecursionAndSortedByRelativePathBytes) {
  test::TempDir tmp("imglist");
  // "good-x" < "good/" as bytes ('-' 0x2d < '/' 0x2f); a path-element sort would put good/ first.
  for (const char* n : {"good/b.png", "good/a.png", "good-x/a.png", "B.png", "a.png", "good/sub/z.jpg"})
    touch(tmp.path() / n);
  EXPECT_EQ(rel(list_images(tmp.path()), tmp.path()), (std::vector<std::string>{"B.png", "a.png"}));
  EXPECT_EQ(rel(list_images(tmp.path(), {true, {}}), tmp.path()),
            (std::vector<std::string>{"B.png", "a.png", "good-x/a.png", "good/a.png", "good/b.png", "good/sub/z.jpg"}));
}

TEST(ImageList, HiddenFilesAndFoldersSkipped) {
  test::TempDir tmp("imglist");
  for (const char* n : {"a.png", "._a.png", ".hidden.png", ".ipynb_checkpoints/a.png", "sub/.b.png", "sub/b.png"})
    touch(tmp.path() / n);
  EXPECT_EQ(rel(list_images(tmp.path(), {true, {}}), tmp.path()), (std::vector<std::string>{"a.png", "sub/b.png"}));
}

TEST(ImageList, SymlinksFollowedAndLoopsEnd) {
  test::TempDir tmp("imglist");
  touch(tmp.path() / "real/a.png");
  fs::create_directory_symlink(tmp.path() / "real", tmp.path() / "linked");
  fs::create_symlink(tmp.path() / "real/a.png", tmp.path() / "c.png");
  fs::create_directory_symlink(tmp.path(), tmp.path() / "real/loop");  // back to the top
  EXPECT_EQ(rel(list_images(tmp.path()), tmp.path()), (std::vector<std::string>{"c.png"}));
  // The real folder is entered once, by whichever name is met first; the loop does not repeat it.
  auto all = rel(list_images(tmp.path(), {true, {}}), tmp.path());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], "c.png");
  EXPECT_TRUE(all[1] == "linked/a.png" || all[1] == "real/a.png") << all[1];
}

TEST(ImageList, DanglingLinkNamedLikeAnImageIsAnError) {
  test::TempDir tmp("imglist");
  touch(tmp.path() / "a.png");
  fs::create_symlink(tmp.path() / "gone.png", tmp.path() / "b.png");
  fs::create_symlink(tmp.path() / "gone", tmp.path() / "notes");  // not an image name: ignored
  const std::string msg = list_error_of([&] { list_images(tmp.path()); });
  EXPECT_NE(msg.find((tmp.path() / "b.png").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("symbolic link to nothing"), std::string::npos) << msg;
  fs::remove(tmp.path() / "b.png");
  EXPECT_EQ(list_images(tmp.path()).size(), 1u);
}

TEST(ImageList, UnreadableImageOrFolderIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads everything";
  test::TempDir tmp("imglist");
  touch(tmp.path() / "a.png");
  touch(tmp.path() / "sub/b.png");
  fs::permissions(tmp.path() / "a.png", fs::perms::none);
  EXPECT_NE(list_error_of([&] { list_images(tmp.path()); }).find("a.png"), std::string::npos);
  fs::permissions(tmp.path() / "a.png", fs::perms::owner_read | fs::perms::owner_write);
  fs::permissions(tmp.path() / "sub", fs::perms::none);
  EXPECT_NE(list_error_of([&] { list_images(tmp.path(), {true, {}}); }).find("sub"), std::string::npos);
  EXPECT_EQ(list_images(tmp.path()).size(), 1u);  // not recursive: sub is not entered
  fs::permissions(tmp.path() / "sub", fs::perms::owner_all);
}

TEST(ImageList, MissingFolderOrFileNamedInTheError) {
  test::TempDir tmp("imglist");
  touch(tmp.path() / "a.png");
  EXPECT_NE(list_error_of([&] { list_images(tmp.path() / "missing"); }).find("missing"), std::string::npos);
  EXPECT_NE(list_error_of([&] { list_images(tmp.path() / "a.png"); }).find("not a folder"), std::string::npos);
  test::TempDir empty("imglist");
  EXPECT_TRUE(list_images(empty.path()).empty());
}
