// Helpers shared by the store tests: unique temporary directories and raw file manipulation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/store/store.h"

namespace hangar::store::testing {

// A fresh directory under the system temp directory, removed with everything in it on
// destruction. Destroy every Store using it first: Windows cannot delete open files.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path file(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path);
void write_bytes(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes);

// A device with every optional field set, so round trips cover all columns.
NewDevice sample_device(std::string serial, std::int64_t created_at = 1'700'000'000'000);

// Opens (creating) a Store, failing the test with the error when it cannot; null then.
std::unique_ptr<Store> open_or_die(const std::filesystem::path& path, StoreOptions options = {});

}  // namespace hangar::store::testing
