// hangar: the command-line client of the Hangar service.
#include <cstdio>
#include <iostream>

#include "cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  int code = hangar::cli::run(args, std::cin, std::cout, std::cerr);
  // Output that could not be written (a full disk behind `> backup.json`, a closed pipe) is a
  // failure, not a success with nothing in the file (black-box round 15: exit 0 on /dev/full).
  std::cout.flush();
  const bool lost = !std::cout.good() || std::fflush(stdout) != 0 || std::ferror(stdout) != 0;
  if (lost && code == 0) {
    std::cerr << "hangar: writing the output failed (disk full, or the reader went away?); it is "
                 "incomplete\n";
    code = 1;
  }
  return code;
}
