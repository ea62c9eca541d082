#include "reproduce/fingerprint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace advad::reproduce {
namespace fs = std::filesystem;

namespace {
std::string stamp(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  const auto t = fs::last_write_time(p, ec);
  return std::to_string(ec ? 0 : size) + ":" + std::to_string(t.time_since_epoch().count());
}
}  // namespace

void Fingerprint::mix(const std::string& bytes) {
  for (unsigned char c : bytes) {
    h_ ^= c;
    h_ *= 1099511628211ull;  // FNV-1a 64 prime
  }
  // A separator no text contains, so ("ab","c") and ("a","bc") differ.
  h_ ^= 0xff;
  h_ *= 1099511628211ull;
}

void Fingerprint::add_text(const std::string& label, const std::string& text) {
  mix(label);
  mix(text);
}

void Fingerprint::add_path(const std::string& path) {
  mix(path);
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    mix("missing");
    return;
  }
  if (!fs::is_directory(st)) {
    mix(stamp(path));
    return;
  }
  std::vector<std::string> lines;
  for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;
    lines.push_back(fs::relative(it->path(), path, fec).string() + "=" + stamp(it->path()));
  }
  std::sort(lines.begin(), lines.end());
  mix(std::to_string(lines.size()));
  for (const auto& l : lines) mix(l);
}

void Fingerprint::add_file_content(const std::string& path) {
  mix(path);
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    mix("missing");
    return;
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  mix(ss.str());
}

std::string Fingerprint::hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
  return buf;
}

}  // namespace advad::reproduce
