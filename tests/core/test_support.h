// Shared helpers for the core tests: the public sample hash, temporary files, byte-exact encodings.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/hash_builder.h"
#include "hangar/intake/csv_reader.h"

namespace hangar::core::testing {

// DOMAIN.md's public sample (MMD docs, Surface Laptop, serial 016520771357): unpadded, 1 byte
// short.
inline constexpr std::string_view kSampleHash =
    "T0EeBAEAHAAAAAoAAQBjRQAACgAgAWNFTw76I3gCCQMCABAACQABAAIABAABAAAABQAZAAgAAAAAAAAACAAAAAAAAA"
    "ACAAEAAwMAEQBHZW51aW5lSW50ZWwABAA0AEludGVsKFIpIENvcmUoVE0pIGk1LTczMDBVIENQVSBAIDIuNjBHSHoA"
    "AAAAAAAAAAYAEAAAAQAAAAAAABEAAAEHAEUAMzMzM180QTMwXzRBMjFfNjExNV8wMDI1XzM4NTlfMDAwMF8wMDAxLn"
    "xTQU1TVU5HIEtVUzAzMDIwMk0tQjAwMHwIABoACQAAALyDhexPuwgAAABQAEMASQAAAAgAGgAKAAAAvIOF7E+8CAAA"
    "AEIAVABIAAAACQAQAB0BvgDQCOAFAAAAgBsACAAdABMACgAJAAkCAMUKDQBQAFRQTS1WZXJzaW9uOjIuMCAtTGV2ZW"
    "w6MC1SZXZpc2lvbjoxLjE2LVZlbmRvcklEOidOVEMgJy1GaXJtd2FyZTo2NTUzOS42NTUzNgAZAAQBtp4c1IQUNQ6W"
    "iaih3jV16sI/9xdNPxB/iAT1+02gHsHpieOUbnlL39zVxDIgPDwhRM1Fjgh2d8KJu2AM+SiHPXBbuWAP5/NwJlEyf3"
    "Te5/5yChEedFWdfgG1/13oK0AmEDSdfdJfDekpeloYSgZr73vsoClJ8DR67BnmyzSKnIY4I8lqDBXrcETeZwqAoqQb"
    "v1IP9MB/qersMJjMyuDrnkixiPpBgOGE8r6Oip+KMm3MTVbawqCgMhfl/xfMMR+l+krrAR75msvN9Jzf3ixXZu4uaH"
    "JYIobDIufyJYn29BgPllOtVfrK44IogwUeP1H09CT8TH1T9TPBi9CKh8zxjwsALgAAAAAAAQAgAAAAc3sivcVFJ1E8"
    "5y+Gixfq87gUTmg7UlAfCesRyIuOLtgMABQANG6FKrfG3VAA6wI+Fp4TLQ4AEQAwMTY1MjA3NzEzNTcADwAaAE1pY3"
    "Jvc29mdCBDb3Jwb3JhdGlvbgAQABoATWljcm9zb2Z0IENvcnBvcmF0aW9uABEAEwBTdXJmYWNlIExhcHRvcAASABMA"
    "U3VyZmFjZV9MYXB0b3AAEwAMAFN1cmZhY2UAFwAnAEQ6RiBCOjBDODUwMkIxIEY6VSBDOjA5IFA6QzEgUzowMSAAFA"
    "AaAE1pY3Jvc29mdCBDb3Jwb3JhdGlvbgAVABMAU3VyZmFjZSBMYXB0b3AAFgAaAFNNQklPU19TVFJJTkdfSU5ERVhf"
    "MAAYABIAMzg2MzQ3NTI5Nzc4NwAaABMAW1JTMl1YMjEtMzYzMTEAHABGADMzMzNfNEEzMF80QTIxXzYxMTVfMDAyNV"
    "8zODU5XzAwMDBfMDAwMS58U0FNU1VORyBLVVMwMzAyMDJNLUIwMDB8AENTJADoMJEDquTVL+c3M1mlkr6E6sftOEuJ"
    "D9f72qWBKCIr";

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("hangar-core-") + info->test_suite_name() + "-" + info->name();
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, std::string_view bytes) const {
    const auto file = path_ / name;
    std::ofstream out(file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return file;
  }

 private:
  std::filesystem::path path_;
};

// UTF-8 (ASCII and BMP only is enough for tests) -> UTF-16LE/BE bytes.
inline std::string to_utf16(std::string_view utf8, bool little_endian, bool bom) {
  std::u16string units;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    char32_t cp = c;
    std::size_t len = 1;
    if (c >= 0xF0) {
      cp = c & 0x07U;
      len = 4;
    } else if (c >= 0xE0) {
      cp = c & 0x0FU;
      len = 3;
    } else if (c >= 0xC0) {
      cp = c & 0x1FU;
      len = 2;
    }
    for (std::size_t k = 1; k < len; ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3FU);
    }
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      units.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      units.push_back(static_cast<char16_t>(cp));
    }
  }
  std::string out;
  if (bom) out += little_endian ? "\xFF\xFE" : "\xFE\xFF";
  for (char16_t u : units) {
    const char lo = static_cast<char>(u & 0xFF);
    const char hi = static_cast<char>(u >> 8);
    if (little_endian) {
      out += lo;
      out += hi;
    } else {
      out += hi;
      out += lo;
    }
  }
  return out;
}

// A realistic ~4 KB hash for a fake device, as base64.
inline std::string fake_hash(const std::string& serial, const std::string& make = "Contoso",
                             const std::string& model = "Laptop 7",
                             const std::string& build = "10.0.22631.2861") {
  return HardwareHashBuilder::realistic(serial, make, model, build).build_base64();
}

inline Result<CsvReader> reader_for(std::string bytes, CsvReaderOptions options = {}) {
  return CsvReader::from_stream(std::make_unique<std::istringstream>(std::move(bytes)), "test.csv",
                                options);
}

inline std::vector<CsvRecord> read_all(CsvReader& reader) {
  std::vector<CsvRecord> out;
  while (auto r = reader.next()) out.push_back(std::move(*r));
  return out;
}

}  // namespace hangar::core::testing
