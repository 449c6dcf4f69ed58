// PATH-list editing for the installer: compare entries like Windows does, keep the rest as is.
#include "path_list.h"

#include <vector>

namespace hangar::service {
namespace {

std::vector<std::string_view> split(std::string_view list) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = list.find(';', start);
    out.push_back(list.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::string_view normalized(std::string_view entry) {
  auto trim = [](std::string_view s, std::string_view chars) {
    const std::size_t first = s.find_first_not_of(chars);
    if (first == std::string_view::npos) return std::string_view();
    return s.substr(first, s.find_last_not_of(chars) - first + 1);
  };
  entry = trim(entry, " \t\"");
  while (entry.size() > 1 && (entry.back() == '\\' || entry.back() == '/')) entry.remove_suffix(1);
  return entry;
}

bool same_entry(std::string_view a, std::string_view b) {
  a = normalized(a);
  b = normalized(b);
  if (a.empty() || a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    const char x = a[i] == '/' ? '\\' : lower(a[i]);
    const char y = b[i] == '/' ? '\\' : lower(b[i]);
    if (x != y) return false;
  }
  return true;
}

}  // namespace

bool path_list_contains(std::string_view list, std::string_view dir) {
  for (const auto entry : split(list)) {
    if (same_entry(entry, dir)) return true;
  }
  return false;
}

std::string path_list_with(std::string_view list, std::string_view dir) {
  if (path_list_contains(list, dir)) return std::string(list);
  std::string out(list);
  while (!out.empty() && out.back() == ';') out.pop_back();
  if (!out.empty()) out += ';';
  out += dir;
  return out;
}

std::string path_list_without(std::string_view list, std::string_view dir) {
  std::string out;
  bool first = true;
  for (const auto entry : split(list)) {
    if (same_entry(entry, dir)) continue;
    if (!first) out += ';';
    out += entry;
    first = false;
  }
  return out;
}

}  // namespace hangar::service
