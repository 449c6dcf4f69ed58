// hangar-devicegen: writes a Get-WindowsAutoPilotInfo CSV of simulated devices with realistic
// 4 KB hardware hashes, for the demo and for trying Hangar without real hardware.
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "hangar/core/hash_builder.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string out;
  std::vector<std::pair<std::string, int>> groups;  // prefix, count
  for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "-o") {
      out = args[i + 1];
    } else if (args[i] == "--devices") {
      // PREFIX:COUNT, e.g. LAB-:40
      const auto colon = args[i + 1].rfind(':');
      if (colon == std::string::npos) break;
      try {
        groups.emplace_back(args[i + 1].substr(0, colon), std::stoi(args[i + 1].substr(colon + 1)));
      } catch (const std::exception&) {
        groups.clear();
        break;
      }
    }
  }
  if (out.empty() || groups.empty()) {
    std::cerr
        << "usage: hangar-devicegen -o FILE --devices PREFIX:COUNT [--devices PREFIX:COUNT...]\n"
           "writes a Get-WindowsAutoPilotInfo CSV (CRLF) with realistic 4 KB hashes\n";
    return 2;
  }
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  file << "Device Serial Number,Windows Product ID,Hardware Hash\r\n";
  std::uint64_t seed = 1;
  for (const auto& [prefix, count] : groups) {
    for (int n = 1; n <= count; ++n) {
      char number[16];
      std::snprintf(number, sizeof number, "%04d", n);
      const std::string serial = prefix + number;
      file << serial << ",,"
           << hangar::core::HardwareHashBuilder::realistic(serial, "Contoso", "Laptop 7",
                                                           "10.0.22631.2861", seed++)
                  .build_base64()
           << "\r\n";
    }
  }
  if (!file.flush()) {
    std::cerr << "hangar-devicegen: cannot write " << out << "\n";
    return 1;
  }
  return 0;
}
