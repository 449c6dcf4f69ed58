// Peak memory of `hangar validate` over a large file (issue 11, item 10): writes N rows (default
// 1,000,000; Manufacturer/Model/Serial partner rows, plus --hashes K rows with realistic 4 KB
// hardware hashes) into a scratch file, runs the real CLI on it and reports its peak resident set
// (wait4's ru_maxrss), the time, and the bytes per row. The file is never kept unless --keep.
#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "bench_support.h"
#include "hangar/core/hash_builder.h"

int main(int argc, char** argv) {
  long rows = 1'000'000;
  long hashed = 0;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rows" && i + 1 < argc) {
      rows = std::stol(argv[++i]);
    } else if (arg == "--hashes" && i + 1 < argc) {
      hashed = std::stol(argv[++i]);
    } else if (arg == "--keep") {
      keep = true;
    } else {
      std::fprintf(stderr, "usage: validate_memory [--rows N] [--hashes K] [--keep]\n");
      return 2;
    }
  }
  hangar::bench::WorkDir work("hangar-validate-", keep);
  const auto partner = work.path() / "partner.csv";
  {
    std::ofstream out(partner, std::ios::binary);
    out << "Device Serial Number,Manufacturer,Model\r\n";
    char line[96];
    for (long i = 0; i < rows; ++i) {
      const int n = std::snprintf(line, sizeof line, "SN%09ld,Contoso,Laptop 7\r\n", i);
      out.write(line, n);
    }
  }
  std::vector<std::string> args{HANGAR_BENCH_HANGAR, "validate", partner.string()};
  if (hashed > 0) {
    const auto with_hashes = work.path() / "hashes.csv";
    std::ofstream out(with_hashes, std::ios::binary);
    out << "Device Serial Number,Windows Product ID,Hardware Hash\r\n";
    for (long i = 0; i < hashed; ++i) {
      const std::string serial = "HW" + std::to_string(i);
      out << serial << ",,"
          << hangar::core::HardwareHashBuilder::realistic(serial, "Contoso", "Laptop 7",
                                                          "10.0.22631.2861",
                                                          static_cast<std::uint64_t>(i + 1))
                 .build_base64()
          << "\r\n";
    }
    args.push_back(with_hashes.string());
  }
  const auto log = work.path() / "validate.out";
  const auto started = std::chrono::steady_clock::now();
  hangar::test::Process cli(args, log);
  int status = 0;
  rusage usage{};
  if (::wait4(cli.pid(), &status, 0, &usage) != cli.pid()) {
    std::fprintf(stderr, "validate_memory: wait4 failed\n");
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const long total = rows + hashed;
  std::printf(
      "hangar validate: %ld rows (%ld with hashes): exit %d, %.1f s, peak RSS %ld MB, "
      "%.0f bytes/row\n",
      total, hashed, WIFEXITED(status) ? WEXITSTATUS(status) : -1, seconds, usage.ru_maxrss / 1024,
      static_cast<double>(usage.ru_maxrss) * 1024.0 / static_cast<double>(total));
  return 0;
}
