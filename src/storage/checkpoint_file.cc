#include "storage/checkpoint_file.h"

#include <charconv>
#include <string_view>

#include "storage/file_names.h"

namespace strata::storage {
namespace {

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

template <class T>
bool parse_int(std::string_view s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc{} && p == s.data() + s.size();
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

}  // namespace

std::error_code write_checkpoint(fs::file_system& fs, const std::string& path,
                                 const std::vector<std::string>& entries) {
  std::string text = std::to_string(kCheckpointVersion) + "\n" + std::to_string(entries.size()) + "\n";
  for (const auto& e : entries) {
    text += e;
    text += '\n';
  }
  std::string tmp = path + std::string(kTmpSuffix);
  {
    auto f = fs.open(tmp, fs::open_mode::read_write_create);
    if (!f) return f.error();
    if (auto ec = f.value()->truncate(0)) return ec;
    if (auto ec = f.value()->pwrite_all(text.data(), text.size(), 0)) return ec;
    if (auto ec = f.value()->datasync()) return ec;
  }
  if (auto ec = fs.rename(tmp, path)) return ec;
  return fs.sync_dir(dir_of(path));
}

result<std::vector<std::string>> read_checkpoint(fs::file_system& fs, const std::string& path) {
  auto f = fs.open(path, fs::open_mode::read_write);
  if (!f) return f.error();
  auto size = f.value()->size();
  if (!size) return size.error();
  std::string text(size.value(), '\0');
  auto n = f.value()->pread(text.data(), text.size(), 0);
  if (!n) return n.error();
  text.resize(n.value());
  auto lines = split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  int version = -1;
  size_t count = 0;
  if (lines.size() < 2 || !parse_int(lines[0], &version) || version != kCheckpointVersion ||
      !parse_int(lines[1], &count) || lines.size() != count + 2) {
    return make_error_code(errc::corrupt_segment);
  }
  std::vector<std::string> out;
  out.reserve(count);
  for (size_t i = 2; i < lines.size(); ++i) out.emplace_back(lines[i]);
  return out;
}

std::error_code write_offset_checkpoint(fs::file_system& fs, const std::string& path,
                                        const offset_map& offsets) {
  std::vector<std::string> lines;
  lines.reserve(offsets.size());
  for (const auto& [tp, off] : offsets) {
    lines.push_back(tp.first + " " + std::to_string(tp.second) + " " + std::to_string(off));
  }
  return write_checkpoint(fs, path, lines);
}

result<offset_map> read_offset_checkpoint(fs::file_system& fs, const std::string& path) {
  auto lines = read_checkpoint(fs, path);
  if (!lines) {
    if (lines.error() == errc::not_found) return offset_map{};
    return lines.error();
  }
  offset_map out;
  for (const auto& l : lines.value()) {
    auto f = split(l, ' ');
    int32_t p = 0;
    int64_t o = 0;
    if (f.size() != 3 || f[0].empty() || !parse_int(f[1], &p) || !parse_int(f[2], &o)) {
      return make_error_code(errc::corrupt_segment);
    }
    out[{std::string(f[0]), p}] = o;
  }
  return out;
}

}  // namespace strata::storage
