#include "render/json_lines_writer.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>

#include "core/error.h"

namespace fs = std::filesystem;

namespace advad {

JsonLinesWriter::JsonLinesWriter(std::string path, Options options) : path_(std::move(path)), options_(options) {
  if (options_.max_files < 1) options_.max_files = 1;
  if (path_ == "-") {
    file_ = stdout;
    stdout_ = true;
    return;
  }
  if (path_.empty()) throw InputError("JSON lines: no file name given");
  const fs::path parent = fs::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::is_directory(parent, ec))
    throw InputError("cannot write JSON lines to '" + path_ + "': folder '" + parent.string() +
                     "' does not exist (create it first)");
  open(options_.mode);
}

JsonLinesWriter::~JsonLinesWriter() {
  if (file_ && !stdout_) {
    std::fflush(file_);
    ::fsync(fileno(file_));
    std::fclose(file_);
  }
}

void JsonLinesWriter::fail(const std::string& what) const {
  throw InputError("cannot " + what + " JSON lines file '" + path_ + "': " + std::strerror(errno) +
                   " (check the folder, its permissions and free space)");
}

void JsonLinesWriter::open(Mode mode) {
  file_ = std::fopen(path_.c_str(), mode == Mode::Append ? "ab" : "wb");
  if (!file_) fail("open");
  std::error_code ec;
  const auto size = fs::file_size(path_, ec);
  bytes_ = ec ? 0 : size;
}

void JsonLinesWriter::rotate() {
  std::fflush(file_);
  ::fsync(fileno(file_));
  std::fclose(file_);
  file_ = nullptr;
  std::error_code ec;
  const unsigned keep = options_.max_files - 1;  // numbered files next to the current one
  fs::remove(path_ + "." + std::to_string(keep + 1), ec);
  for (unsigned i = keep; i >= 1; --i) {
    const std::string from = i == 1 ? path_ : path_ + "." + std::to_string(i - 1);
    const std::string to = path_ + "." + std::to_string(i);
    if (fs::exists(from, ec)) fs::rename(from, to, ec);
    if (ec) fail("rotate (rename to " + to + ")");
  }
  if (keep == 0) fs::remove(path_, ec);
  open(Mode::Overwrite);
}

void JsonLinesWriter::write(const std::string& line) {
  const std::uint64_t n = line.size() + 1;
  if (!stdout_ && options_.max_bytes > 0 && bytes_ > 0 && bytes_ + n > options_.max_bytes) rotate();
  errno = 0;
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fputc('\n', file_) == EOF ||
      std::fflush(file_) != 0)
    fail("write to");
  bytes_ += n;
}

void JsonLinesWriter::sync() {
  if (std::fflush(file_) != 0) fail("flush");
  if (!stdout_ && ::fsync(fileno(file_)) != 0) fail("sync");
}

std::string new_run_id() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  std::random_device rd;
  char hex[16];
  std::snprintf(hex, sizeof hex, "%06x", static_cast<unsigned>(rd()) & 0xFFFFFFu);
  return std::string(stamp) + "-" + hex;
}

}  // namespace advad
