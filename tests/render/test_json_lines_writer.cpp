// JsonLinesWriter: restarts append, overwrite truncates, rotation keeps the
// newest files, and a missing folder or a full disk is an error naming the path.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "core/error.h"
#include "render/json_lines_writer.h"
#include "test_support.h"

namespace advad {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const std::string& file) {
  std::vector<std::string> out;
  std::ifstream f(file);
  for (std::string l; std::getline(f, l);) out.push_back(l);
  return out;
}

TEST(JsonLinesWriter, ARestartAppendsAndOverwriteStartsOver) {
  const std::string file = test::test_tmp("jsonl", "append.jsonl");
  fs::remove(file);
  {
    JsonLinesWriter w(file, {});
    w.write("{\"frame\":0}");
    w.write("{\"frame\":1}");
  }
  {
    JsonLinesWriter w(file, {});  // the pipeline restarted
    w.write("{\"frame\":0,\"run\":\"b\"}");
    EXPECT_EQ(lines_of(file).size(), 3u) << "flushed as written";
  }
  EXPECT_EQ(lines_of(file).size(), 3u);
  JsonLinesWriter::Options o;
  o.mode = JsonLinesWriter::Mode::Overwrite;
  {
    JsonLinesWriter w(file, o);
    w.write("{}");
  }
  EXPECT_EQ(lines_of(file), std::vector<std::string>{"{}"});
}

TEST(JsonLinesWriter, RotationKeepsTheNewestFilesUnderTheSizeLimit) {
  const std::string file = test::test_tmp("jsonl", "rot.jsonl");
  for (const char* s : {"", ".1", ".2", ".3"}) fs::remove(file + s);
  JsonLinesWriter::Options o;
  o.max_bytes = 100;
  o.max_files = 3;
  {
    JsonLinesWriter w(file, o);
    for (int i = 0; i < 10; ++i) w.write("{\"frame\":" + std::to_string(i) + ",\"pad\":\"xxxxxxxxxxxxxxxxxx\"}");
  }
  // 38 bytes a line (+ newline): two lines a file; frames 8-9 current, 6-7 in .1, 4-5 in .2, older ones gone.
  EXPECT_EQ(lines_of(file).size(), 2u);
  EXPECT_NE(lines_of(file).back().find("\"frame\":9"), std::string::npos);
  EXPECT_NE(lines_of(file + ".1").front().find("\"frame\":6"), std::string::npos);
  EXPECT_NE(lines_of(file + ".2").front().find("\"frame\":4"), std::string::npos);
  EXPECT_FALSE(fs::exists(file + ".3"));
  for (const char* s : {"", ".1", ".2"}) EXPECT_LE(fs::file_size(file + s), 100u);
}

TEST(JsonLinesWriter, AMissingFolderIsAnErrorNamingThePath) {
  const std::string file = test::test_tmp("jsonl", "no/such/folder/out.jsonl");
  test::expect_error<InputError>([&] { JsonLinesWriter w(file, {}); }, {file, "does not exist"});
}

TEST(JsonLinesWriter, AFullDiskIsAnErrorNamingThePath) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
  JsonLinesWriter w("/dev/full", {});
  test::expect_error<InputError>([&] { w.write(std::string(70000, 'x')); }, {"/dev/full", "No space left"});
}

TEST(JsonLinesWriter, RunIdsAreTimestampedAndDistinct) {
  const std::string a = new_run_id(), b = new_run_id();
  EXPECT_TRUE(std::regex_match(a, std::regex("[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}"))) << a;
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace advad
