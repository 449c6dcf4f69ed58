// Peak memory of `hangar validate` over a large file (issue 11, item 10): writes N rows (default
// 1,000,000; Manufacturer/Model/Serial partner rows, plus --hashes K rows with realistic 4 KB
// hardware hashes) into a scratch file, runs the real CLI on it (`--json`: `hangar --json
// validate`, a record per row on stdout; `--hangar PATH`: another build of the CLI) and reports its
// peak resident set (wait4's ru_maxrss), the time, the bytes per row, and whether it met the
// target: under 150 MB. The file is never kept unless --keep.
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
  bool json = false;
  std::string hangar = HANGAR_BENCH_HANGAR;  // --hangar: another build's, to compare
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rows" && i + 1 < argc) {
      rows = std::stol(argv[++i]);
    } else if (arg == "--hashes" && i + 1 < argc) {
      hashed = std::stol(argv[++i]);
    } else if (arg == "--keep") {
      keep = true;
    } else if (arg == "--hangar" && i + 1 < argc) {
      hangar = argv[++i];
    } else if (arg == "--json") {
      json = true;
    } else {
      std::fprintf(
          stderr,
          "usage: validate_memory [--rows N] [--hashes K] [--json] [--hangar PATH] [--keep]\n");
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
  std::vector<std::string> args{hangar};
  if (json) args.emplace_back("--json");
  args.emplace_back("validate");
  args.push_back(partner.string());
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
  const long peak_mb = usage.ru_maxrss / 1024;
  constexpr long kTargetMb = 150;
  std::printf(
      "hangar%s validate: %ld rows (%ld with hashes): exit %d, %.1f s (CPU %.1f s), peak RSS %ld "
      "MB, %.0f bytes/row\n",
      json ? " --json" : "", total, hashed, WIFEXITED(status) ? WEXITSTATUS(status) : -1, seconds,
      static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
          static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6,
      peak_mb, static_cast<double>(usage.ru_maxrss) * 1024.0 / static_cast<double>(total));
  std::printf("target: peak RSS under %ld MB: %ld MB, %s\n", kTargetMb, peak_mb,
              peak_mb < kTargetMb ? "met" : "missed");
  // The validation itself must succeed: every generated row is valid and unique.
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "validate_memory: hangar validate did not exit 0 (%s)\n",
                 keep ? ("output in " + log.string()).c_str() : "--keep keeps its output");
    return 1;
  }
  return 0;
}
