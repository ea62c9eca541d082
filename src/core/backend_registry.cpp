#include "core/backend_registry.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <mutex>

namespace advad {

namespace {

// Function-local statics: backends register from static initialisers of other
// files, whose order is unspecified.
std::map<std::string, Backend>& registry() {
  static std::map<std::string, Backend> backends;
  return backends;
}
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

bool register_backend(Backend backend) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  const std::string method = backend.method;
  if (!registry().emplace(method, std::move(backend)).second)
    std::cerr << "advad: warning: model backend '" << method << "' registered twice; the first is kept\n";
  return true;
}

const Backend* find_backend(const std::string& method) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto it = registry().find(method);
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> backend_methods() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::string> names;
  for (const auto& [name, backend] : registry()) names.push_back(name);
  return names;  // std::map keeps them sorted
}

std::string backend_methods_text() {
  std::string text;
  for (const auto& name : backend_methods()) text += (text.empty() ? "" : " | ") + name;
  return text;
}

}  // namespace advad
