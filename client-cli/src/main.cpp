// hangar: the command-line client of the Hangar service.
#include <iostream>

#include "cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return hangar::cli::run(args, std::cin, std::cout, std::cerr);
}
