// hangar-tray's command line (see options.h).
#include "hangar/tray/options.h"

#include <algorithm>
#include <charconv>

#include "hangar/core/paths.h"
#include "hangar/core/text_wrap.h"

namespace hangar::tray {

namespace {

constexpr long long kMaxCoalesceMs = 60'000;

}  // namespace

core::Result<Options> parse_options(const std::vector<std::string>& args,
                                    const std::string& env_endpoint) {
  Options options;
  options.endpoint = env_endpoint;
  std::vector<std::string> given;  // options with a value, each once, as for hangar
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool has_value = false;
    if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
      has_value = true;
    }
    const auto take = [&]() -> core::Result<std::string> {
      if (has_value) return value;
      if (i + 1 >= args.size()) return core::make_error("usage", arg + " needs a value");
      return args[++i];
    };
    if (arg == "--endpoint" || arg == "--coalesce-ms" || arg == "--log-file") {
      auto v = take();
      if (!v) return std::move(v).error();
      // As hangar reads them (black-box round 13: `--endpoint ""` watched the system's socket,
      // and the last of two --endpoint won).
      if (std::find(given.begin(), given.end(), arg) != given.end()) {
        return core::make_error("usage", arg + " given twice");
      }
      given.push_back(arg);
      if (v->empty()) return core::make_error("usage", arg + " needs a value, not an empty one");
      if (arg == "--endpoint") {
        options.endpoint = *v;
      } else if (arg == "--log-file") {
        options.log_file = *v;
      } else {
        long long ms = -1;
        const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), ms);
        if (ec != std::errc() || end != v->data() + v->size() || ms < 0 || ms > kMaxCoalesceMs) {
          return core::make_error(
              "usage", "--coalesce-ms takes 0 to 60000 milliseconds, not \"" + *v + "\"");
        }
        options.coalesce = std::chrono::milliseconds(ms);
      }
    } else if ((arg == "--dry-run" || arg == "--help" || arg == "-h") && !has_value) {
      (arg == "--dry-run" ? options.dry_run : options.help) = true;
    } else {
      return core::make_error("usage", "unknown option \"" + args[i] + "\"");
    }
  }
  if (options.endpoint.empty()) options.endpoint = core::default_client_endpoint();
  return options;
}

std::string usage_text() {
  // Fitted to 80 columns (the default endpoint's length varies).
  return core::wrap_lines(
      "usage: hangar-tray [--endpoint ENDPOINT] [--coalesce-ms MS] [--log-file FILE] "
      "[--dry-run]\n"
      "  --endpoint     the service's pipe or socket (default: HANGAR_ENDPOINT, else " +
      core::default_client_endpoint() +
      ")\n"
      "  --coalesce-ms  changes within this window make one notification (default 3000)\n"
      "  --log-file     append connections, health changes and notifications to FILE\n"
      "  --dry-run      print what would be shown instead of showing it\n");
}

}  // namespace hangar::tray
