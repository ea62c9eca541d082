#include "reproduce/step_record.h"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace advad::reproduce {
namespace fs = std::filesystem;

std::optional<StepRecord> load_step_record(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(f);
    StepRecord r;
    r.step = j.value("step", "");
    r.fingerprint = j.value("fingerprint", "");
    r.outputs = j.value("outputs", "");
    r.status = j.value("status", "");
    r.exit_code = j.value("exit_code", 0);
    r.seconds = j.value("seconds", 0.0);
    r.items = j.value("items", 0L);
    r.command = j.value("command", "");
    r.error = j.value("error", "");
    r.finished = j.value("finished", "");
    return r;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void save_step_record(const std::string& path, const StepRecord& r) {
  const nlohmann::json j = {{"step", r.step},         {"fingerprint", r.fingerprint}, {"outputs", r.outputs},
                            {"status", r.status},
                            {"exit_code", r.exit_code}, {"seconds", r.seconds},       {"items", r.items},
                            {"command", r.command},   {"error", r.error},             {"finished", r.finished}};
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    if (!(f << j.dump(2) << "\n")) throw InputError("cannot write the step record '" + tmp + "'");
  }
  fs::rename(tmp, path, ec);
  if (ec) throw InputError("cannot write the step record '" + path + "': " + ec.message());
}

std::string iso_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace advad::reproduce
