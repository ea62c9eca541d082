#include "cpr/bank/bank.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace advad::cpr {
namespace {

constexpr char kMagic[12] = {'A', 'D', 'V', 'A', 'D', 'C', 'P', 'R', 'B', 'A', 'N', 'K'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kAlign = 64;

std::string shape_str(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

// A fast 64-bit checksum (multiply-xor over 8-byte words) to catch corrupt or
// truncated blobs without slowing the load of multi-GB banks.
uint64_t checksum(const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = 1469598103934665603ull ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 1099511628211ull;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

std::string dtype_name(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: return "f4";
    case torch::kHalf: return "f2";
    default: throw ModelError("CPR bank: unsupported tensor dtype " + std::string(c10::toString(t)));
  }
}

// JSON numbers of the header as integers. nlohmann's get<int64_t>() converts a
// float such as 6.1e28 with a cast that is undefined behaviour when out of
// range (found by fuzzing under UBSan): anything but an integer is refused.
int64_t json_int(const nlohmann::json& v, const std::string& what, const std::string& path) {
  if (!v.is_number_integer())
    throw ModelError(path + ": CPR bank header field " + what + " is " + v.dump().substr(0, 40) +
                     ", not an integer (corrupt header)");
  return v.get<int64_t>();
}
uint64_t json_uint(const nlohmann::json& v, const std::string& what, const std::string& path) {
  if (!v.is_number_unsigned())
    throw ModelError(path + ": CPR bank header field " + what + " is " + v.dump().substr(0, 40) +
                     ", not a non-negative integer (corrupt header)");
  return v.get<uint64_t>();
}

torch::ScalarType dtype_from(const std::string& s, const std::string& path) {
  if (s == "f4") return torch::kFloat;
  if (s == "f2") return torch::kHalf;
  throw ModelError(path + ": unknown tensor dtype '" + s + "' in the bank header (corrupt or newer file)");
}

}  // namespace

int64_t CprBank::bytes() const {
  int64_t n = 0;
  for (const auto* t : {&features[0], &features[1], &codebook, &histograms, &feb_weight, &feb_bias, &foreground})
    if (t->defined()) n += t->numel() * static_cast<int64_t>(t->element_size());
  return n;
}

int64_t CprBank::bytes_per_image() const {
  if (size() == 0) return 0;
  int64_t n = 0;
  for (const auto* t : {&features[0], &features[1], &histograms, &foreground})
    if (t->defined()) n += t->numel() / t->size(0) * static_cast<int64_t>(t->element_size());
  return n;
}

void CprBank::validate(const std::string& where) const {
  auto fail = [&where](const std::string& m) { throw ModelError(where + ": " + m); };
  if (!features[0].defined() || !features[1].defined() || !codebook.defined() || !histograms.defined())
    fail("incomplete CPR bank (features, codebook and histograms are required)");
  const int64_t N = features[0].size(0);
  if (N < 1) fail("the bank holds no training images; build it from at least one image");
  for (int s = 0; s < 2; ++s) {
    const auto& f = features[static_cast<size_t>(s)];
    const int64_t stride = s == 0 ? 4 : 8;
    if (f.dim() != 4 || f.size(0) != N || f.size(1) != features[0].size(1) || f.size(2) != input_h / stride ||
        f.size(3) != input_w / stride)
      fail("features" + std::to_string(s) + " has shape " + shape_str(f) + ", expected [" + std::to_string(N) +
           ", D, " + std::to_string(input_h / stride) + ", " + std::to_string(input_w / stride) + "] for a " +
           std::to_string(input_w) + "x" + std::to_string(input_h) + " input");
  }
  if (codebook.dim() != 2 || codebook.size(0) < 1 || codebook.size(1) != 256)
    fail("codebook has shape " + shape_str(codebook) + ", expected [words, 256]");
  if (histograms.dim() != 3 || histograms.size(0) != N || histograms.size(2) != codebook.size(0) + 1)
    fail("histograms have shape " + shape_str(histograms) + ", expected [" + std::to_string(N) + ", blocks, " +
         std::to_string(codebook.size(0) + 1) + "]");
  if (feb_weight.defined()) {
    if (feb_weight.numel() != 256 || !feb_bias.defined() || feb_bias.numel() != 1)
      fail("foreground branch has weight " + shape_str(feb_weight) + ", expected [1,256,1,1] and a [1] bias");
    if (!foreground.defined() || foreground.dim() != 3 || foreground.size(0) != N ||
        foreground.size(1) != features[0].size(2) || foreground.size(2) != features[0].size(3))
      fail("foreground maps have shape " + (foreground.defined() ? shape_str(foreground) : std::string("(none)")) +
           ", expected [" + std::to_string(N) + ", " + std::to_string(features[0].size(2)) + ", " +
           std::to_string(features[0].size(3)) + "]");
  }
  if (!train_names.empty() && static_cast<int64_t>(train_names.size()) != N)
    fail(std::to_string(train_names.size()) + " training image names for " + std::to_string(N) + " images");
  if (!train_hashes.empty() && static_cast<int64_t>(train_hashes.size()) != N)
    fail(std::to_string(train_hashes.size()) + " training image hashes for " + std::to_string(N) + " images");
}

std::vector<int64_t> CprBank::entries_of_file(const std::string& path) const {
  std::vector<int64_t> out;
  if (train_hashes.empty()) return out;
  const std::string h = file_content_hash(path);
  for (size_t i = 0; i < train_hashes.size(); ++i)
    if (train_hashes[i] == h) out.push_back(static_cast<int64_t>(i));
  return out;
}

std::string file_content_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot read " + path + " to hash it");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError("reading " + path + " failed");
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(checksum(bytes.data(), bytes.size())));
  return buf;
}

CprBank CprBank::to(const torch::Device& device, torch::ScalarType feature_dtype) const {
  CprBank b = *this;
  for (auto& f : b.features) f = f.to(device, feature_dtype).contiguous();
  for (auto* t : {&b.codebook, &b.histograms, &b.feb_weight, &b.feb_bias, &b.foreground})
    if (t->defined()) *t = t->to(device, torch::kFloat).contiguous();
  return b;
}

CprBank CprBank::select(const std::vector<int64_t>& indices) const {
  CprBank b = *this;
  auto idx = torch::tensor(indices, torch::kLong).to(device());
  for (auto& f : b.features) f = f.index_select(0, idx);
  b.histograms = histograms.index_select(0, idx.to(histograms.device()));
  if (foreground.defined()) b.foreground = foreground.index_select(0, idx.to(foreground.device()));
  if (!train_names.empty()) {
    b.train_names.clear();
    for (auto i : indices) b.train_names.push_back(train_names.at(static_cast<size_t>(i)));
  }
  if (!train_hashes.empty()) {
    b.train_hashes.clear();
    for (auto i : indices) b.train_hashes.push_back(train_hashes.at(static_cast<size_t>(i)));
  }
  return b;
}

void CprBank::save(const std::string& path) const {
  validate(path);
  std::vector<std::pair<std::string, torch::Tensor>> blobs = {
      {"features0", features[0]}, {"features1", features[1]}, {"codebook", codebook}, {"histograms", histograms}};
  if (has_foreground()) {
    blobs.push_back({"feb_weight", feb_weight});
    blobs.push_back({"feb_bias", feb_bias});
    blobs.push_back({"foreground", foreground});
  }
  nlohmann::json header;
  header["format"] = "advad-cpr-bank";
  header["input"] = {input_h, input_w};
  header["train_names"] = train_names;
  if (!train_hashes.empty()) header["train_hashes"] = train_hashes;
  std::vector<torch::Tensor> cpu;
  uint64_t offset = 0;
  for (auto& [name, t] : blobs) {
    auto c = t.detach().to(torch::kCPU).contiguous();
    const uint64_t n = static_cast<uint64_t>(c.numel()) * c.element_size();
    header["tensors"].push_back({{"name", name},
                                 {"dtype", dtype_name(c.scalar_type())},
                                 {"shape", c.sizes().vec()},
                                 {"offset", offset},
                                 {"bytes", n},
                                 {"checksum", checksum(c.data_ptr(), n)}});
    offset += (n + kAlign - 1) / kAlign * kAlign;
    cpu.push_back(c);
  }
  const std::string text = header.dump();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw ModelError(path + ": cannot write the CPR bank (check the folder exists and is writable)");
    const uint64_t hn = text.size();
    out.write(kMagic, sizeof kMagic);
    out.write(reinterpret_cast<const char*>(&kVersion), 4);
    out.write(reinterpret_cast<const char*>(&hn), 8);
    out.write(text.data(), static_cast<std::streamsize>(hn));
    const uint64_t head = sizeof kMagic + 4 + 8 + hn;
    const std::string pad((kAlign - head % kAlign) % kAlign, '\0');
    out.write(pad.data(), static_cast<std::streamsize>(pad.size()));
    for (const auto& c : cpu) {
      const uint64_t n = static_cast<uint64_t>(c.numel()) * c.element_size();
      out.write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(n));
      const std::string p((kAlign - n % kAlign) % kAlign, '\0');
      out.write(p.data(), static_cast<std::streamsize>(p.size()));
    }
    if (!out) throw ModelError(path + ": writing the CPR bank failed (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw ModelError(path + ": cannot move the written bank into place");
}

namespace {

// A read-only shared mapping of a whole bank file. The feature tensors point
// into it (no copy): processes and cameras scoring with the same package share
// the page cache's pages, and a bank is not read into private memory at load.
// The mapping lives as long as the last tensor that points into it.
class FileMap {
 public:
  explicit FileMap(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      throw ModelError(path + ": cannot open the CPR bank (missing file? build it with `advad import cpr` or `advad train`)");
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
      ::close(fd);
      throw ModelError(path + ": CPR bank header is truncated or corrupt (empty file)");
    }
    size_ = static_cast<uint64_t>(st.st_size);
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);  // the mapping keeps the file
    if (p == MAP_FAILED) throw ModelError(path + ": cannot memory-map the CPR bank (" + std::strerror(errno) + ")");
    data_ = static_cast<const char*>(p);
  }
  ~FileMap() { ::munmap(const_cast<char*>(data_), size_); }
  FileMap(const FileMap&) = delete;
  FileMap& operator=(const FileMap&) = delete;
  const char* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  const char* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace

CprBank CprBank::load(const std::string& path) {
  auto map = std::make_shared<FileMap>(path);
  const uint64_t file_size = map->size();
  const uint64_t head = sizeof kMagic + 4 + 8;
  if (file_size < head || std::memcmp(map->data(), kMagic, sizeof kMagic) != 0)
    throw ModelError(path + ": not an advad CPR bank (bad magic); rebuild it with `advad import cpr`");
  uint32_t version = 0;
  uint64_t hn = 0;
  std::memcpy(&version, map->data() + sizeof kMagic, 4);
  std::memcpy(&hn, map->data() + sizeof kMagic + 4, 8);
  if (version != kVersion)
    throw ModelError(path + ": CPR bank version " + std::to_string(version) + " is not supported (this advad reads " +
                     std::to_string(kVersion) + "); rebuild it");
  if (hn == 0 || hn > file_size - head) throw ModelError(path + ": CPR bank header is truncated or corrupt");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(std::string(map->data() + head, hn));
  } catch (const std::exception& e) {
    throw ModelError(path + ": CPR bank header is corrupt (" + std::string(e.what()) + ")");
  }
  const uint64_t data_start = (head + hn + kAlign - 1) / kAlign * kAlign;
  CprBank bank;
  uint64_t data_end = 0;  // where the last tensor's padding ends: the writer's file length
  try {
    if (header.at("format") != "advad-cpr-bank") throw ModelError(path + ": not an advad CPR bank header");
    bank.input_h = json_int(header.at("input").at(0), "input", path);
    bank.input_w = json_int(header.at("input").at(1), "input", path);
    if (bank.input_h < 8 || bank.input_w < 8 || bank.input_h > 65536 || bank.input_w > 65536)
      throw ModelError(path + ": CPR bank input size " + std::to_string(bank.input_w) + "x" +
                       std::to_string(bank.input_h) + " is out of range 8..65536 (corrupt header)");
    bank.train_names = header.at("train_names").get<std::vector<std::string>>();
    if (header.contains("train_hashes")) bank.train_hashes = header.at("train_hashes").get<std::vector<std::string>>();
    for (const auto& e : header.at("tensors")) {
      const std::string name = e.at("name").get<std::string>();
      std::vector<int64_t> shape;
      for (const auto& d : e.at("shape")) shape.push_back(json_int(d, "shape of '" + name + "'", path));
      const uint64_t offset = json_uint(e.at("offset"), "offset", path), n = json_uint(e.at("bytes"), "bytes", path);
      const auto options = torch::TensorOptions().dtype(dtype_from(e.at("dtype").get<std::string>(), path));
      // Element count without overflow, compared by division: a product that
      // wraps could otherwise match a small byte count and map a huge view.
      const uint64_t item = options.dtype().itemsize();
      uint64_t numel = 1;
      bool too_many = false;  // more elements than n bytes can hold (a zero side still makes none)
      for (auto d : shape) {
        if (d < 0) throw ModelError(path + ": tensor '" + name + "' has a negative size (corrupt header)");
        const auto ud = static_cast<uint64_t>(d);
        if (ud == 0) numel = 0, too_many = false;
        else if (numel > n / ud) too_many = true;
        else numel *= ud;
      }
      if (too_many || n % item != 0 || numel != n / item)
        throw ModelError(path + ": tensor '" + name + "' size does not match its shape (corrupt header)");
      if (data_start + offset + n > file_size || data_start + offset + n < data_start)
        throw ModelError(path + ": CPR bank is truncated (tensor '" + name + "' ends past the end of the file; " +
                         std::to_string(file_size) + " bytes)");
      data_end = std::max(data_end, offset + (n + kAlign - 1) / kAlign * kAlign);
      const char* at = map->data() + data_start + offset;
      if (checksum(at, n) != json_uint(e.at("checksum"), "checksum", path))
        throw ModelError(path + ": tensor '" + name + "' is corrupt (checksum mismatch); rebuild the bank");
      // Features (nearly all of the bytes): views of the mapping, read-only by
      // contract (nothing writes into a loaded bank). The rest: own copies.
      const bool view = name == "features0" || name == "features1";
      torch::Tensor t = torch::from_blob(
          const_cast<char*>(at), shape, [keep = map](void*) mutable { keep.reset(); }, options);
      if (!view) t = t.clone();
      if (name == "features0") bank.features[0] = t;
      else if (name == "features1") bank.features[1] = t;
      else if (name == "codebook") bank.codebook = t;
      else if (name == "histograms") bank.histograms = t;
      else if (name == "feb_weight") bank.feb_weight = t;
      else if (name == "feb_bias") bank.feb_bias = t;
      else if (name == "foreground") bank.foreground = t;
      else throw ModelError(path + ": unknown tensor '" + name + "' in the CPR bank");
    }
  } catch (const nlohmann::json::exception& e) {
    throw ModelError(path + ": CPR bank header is incomplete (" + std::string(e.what()) + ")");
  }
  // A half-copied (or appended-to) file: the length the header describes, to the byte.
  if (file_size != data_start + data_end)
    throw ModelError(path + ": CPR bank is " + std::to_string(file_size) + " bytes but its header describes " +
                     std::to_string(data_start + data_end) + " (truncated or partly copied?); rebuild or copy it again");
  bank.validate(path);
  return bank;
}

}  // namespace advad::cpr
