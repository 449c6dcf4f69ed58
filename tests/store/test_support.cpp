// Helpers shared by the store tests (see test_support.h).
#include "test_support.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace hangar::store::testing {

TempDir::TempDir() {
  // random_device alone may be deterministic on some platforms: mix in time and a counter.
  static std::atomic<std::uint64_t> counter{0};
  std::random_device device;
  std::mt19937_64 generator(
      (static_cast<std::uint64_t>(device()) << 32) ^
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
      counter.fetch_add(1));
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::ostringstream name;
    name << "hangar-store-test-" << std::hex << generator();
    auto candidate = std::filesystem::temp_directory_path() / name.str();
    std::error_code ec;
    if (std::filesystem::create_directory(candidate, ec) && !ec) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("could not create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in),
                                   std::istreambuf_iterator<char>());
}

void write_bytes(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

NewDevice sample_device(std::string serial, std::int64_t created_at) {
  NewDevice device;
  device.serial = std::move(serial);
  device.product_id = "00330-80000-00000-AA123";
  // Distinct per serial: the store refuses one hash under two serials.
  device.hardware_hash = std::vector<std::uint8_t>{'O', 'A', 0x00, 0x01, 0xff, 0x00, 0x7f};
  device.hardware_hash->insert(device.hardware_hash->end(), device.serial.begin(),
                               device.serial.end());
  device.manufacturer = "Microsoft Corporation";
  device.model = "Surface Laptop";
  device.group_tag = "Microsoft365Managed_Autopilot";
  device.assigned_user = "user@example.com";
  device.profile = "Standard";
  device.source_file = "C:\\staging\\batch1.csv";
  device.source_line = 7;
  device.created_at = created_at;
  return device;
}

std::unique_ptr<Store> open_or_die(const std::filesystem::path& path, StoreOptions options) {
  auto store = Store::open(path, options);
  EXPECT_TRUE(store.ok()) << store.error().message;
  return store.ok() ? std::move(store).value() : nullptr;
}

}  // namespace hangar::store::testing
