// The hangar CLI (see cli.h). Every command supports --json; errors name the endpoint and the
// cause.
#include "cli.h"

#include "capture_cmd.h"
#include "cli_common.h"
#include "config_cmds.h"
#include "hangar/core/terminal_safe.h"
#include "hangar/ipc/device_wire.h"
#include "help.h"
#include "suggest.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>
#include <variant>

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

#include "hangar/core/device.h"
#include "hangar/core/paths.h"
#include "hangar/core/text_wrap.h"
#include "hangar/core/version.h"
#include "hangar/ipc/client.h"
#include "hangar/ipc/commands.h"

namespace hangar::cli {

namespace {

// --timeout's ceiling: a call is never meant to wait longer than a day.
constexpr double kMaxTimeoutSeconds = 86'400;

std::string usage_text();
std::vector<std::string_view> command_names();
int run_with(const std::vector<std::string>& args, std::istream* in, std::ostream& out,
             std::ostream& err);

bool stderr_is_terminal() {
#ifdef _WIN32
  return _isatty(_fileno(stderr)) != 0;
#else
  return isatty(STDERR_FILENO) != 0;
#endif
}

// What validate, merge and import read, and what they do to rows a spreadsheet changed.
constexpr std::string_view kHashFileHelp =
    "Hash files: every shape (Get-WindowsAutoPilotInfo with or without -Partner, Microsoft\n"
    "Managed Desktop, the portal's), in UTF-8 (with or without BOM), UTF-16 or Windows-1252,\n"
    "with columns separated by commas, semicolons or tabs (taken from the header line, or a\n"
    "\"sep=;\" first line). That covers what Excel saves in any locale: \"CSV (Comma\n"
    "delimited)\" (semicolons and Windows-1252 in Swedish, German, French...), \"CSV UTF-8\",\n"
    "\"Unicode Text\" (UTF-16, tabs).\n"
    "\n"
    "Excel reads a numeric serial as a number and writes it back changed: 165207713570 as\n"
    "1.65208E+11, 016520771357 as 16520771357, more than 15 digits with zeros at the end, or\n"
    "with decimals or thousands separators once formatted as a number. Such a row is never\n"
    "sent as it is: the serial inside its hardware hash is used, with a warning that says what\n"
    "Excel did (\"Excel turned serial 165207713570 into 1.65208E+11\"). A serial that differs\n"
    "from the hash's in any other way (another device's hash) is an error naming both\n"
    "(a placeholder serial in the hash, \"To be filled by O.E.M.\", only a warning); a\n"
    "serial in scientific notation that no hash of its own can restore is refused.\n"
    "Rows Excel kept in one cell, quotes it doubled, the header repeated where files were\n"
    "pasted together or sorted among the data, empty rows and columns and trailing separators\n"
    "are read as the rows they hold; a hash cut at 255 or 32,767 characters is reported as cut\n"
    "by a spreadsheet.\n";

constexpr std::string_view kStrictHelp =
    "  --strict              refuse a row whose serial differs from its hash's, Excel's\n"
    "                        doing or not, instead of using the hash's serial (or warning)\n"
    "  --expect-build BUILD  the image's OS build (22631, 22631.2861, 10.0.22631): devices\n"
    "                        captured on another are summed up per build with their first\n"
    "                        serials; validate fails, merge leaves them out and import\n"
    "                        refuses them (each named with the reason)\n"
    "  --allow-build-mismatch  accept those devices all the same\n";

const std::string& validate_help() {
  static const std::string text =
      std::string(kHashFileHelp) +
      "\nEvery problem is printed as file:line: error|warning: column: reason, then the OS\n"
      "builds found in the hashes and a summary; --json gives the same per row (with\n"
      "serial_in_file where the hash's serial replaced the file's). Needs no service.\n\n" +
      std::string(kStrictHelp) +
      "exit code: 0 no invalid row, no error and no OS build mismatch (unless allowed), 1\n"
      "otherwise\n";
  return text;
}

const std::string& merge_help() {
  static const std::string text =
      std::string(kHashFileHelp) +
      "\nWrites the valid rows, duplicates removed, in the portal's exact format whatever the\n"
      "input was: Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,Assigned\n"
      "User, commas, ASCII, no quotes, CRLF (with the hash's serial where Excel had changed\n"
      "the file's). Needs no service.\n\n"
      "It prints the OS builds in the hashes, as validate does, and counts that add up: rows\n"
      "read = written + duplicates + invalid + unfit for the portal's format + on another OS\n"
      "build.\n\n"
      "  -o, --output OUT      the merged file: OUT itself for up to 500 rows, else OUT-001.csv,\n"
      "                        OUT-002.csv, ... beside it, 500 rows each (the portal's limit)\n"
      "  --split N             at most N rows a file, always numbered (OUT-001.csv, ...)\n"
      "  --no-split            one file, however many rows (the portal refuses more than 500)\n"
      "  --group-tag TAG       the group tag for rows without one (ASCII, no comma, quote or\n"
      "                        line break: the portal's CSV has no quoting)\n\n"
      "OUT and its numbered parts are one set: files of it that an earlier merge wrote and\n"
      "this one did not are removed and named, so OUT-*.csv is always this upload; a file\n"
      "named like a part that is no upload file is left alone, with a warning. An input that\n"
      "belongs to the set is refused (choose another -o), and with no device to write nothing\n"
      "is written.\n\n" +
      std::string(kStrictHelp) + "exit code: 0 every row written, 1 rows left out or errors\n";
  return text;
}

const std::string& import_help() {
  static const std::string text =
      std::string(kHashFileHelp) +
      "\nValid rows are sent to the service in batches (with the hash's serial where Excel had\n"
      "changed the file's); the service checks each device again, the same way, and queues\n"
      "it.\n\n"
      "  --profile P           standard, sensitive-data or power-user (required); any case,\n"
      "                        '-', '_' or a space between the words (Power_User works)\n"
      "  --group-tag TAG       for rows without one (default Microsoft365Managed_Autopilot)\n"
      "  --user UPN            the assigned user for rows without one\n"
      "Spaces around a tag or a user are dropped, as in the CSV's cells.\n\n"
      "A device already queued and not uploaded yet takes the new profile, and the group tag\n"
      "and user if given (by the options or the file; one not given stays as it is); each\n"
      "change is printed. Once uploaded, such a row is refused with the way out. A device\n"
      "whose registration failed is not queued again: it is named with `hangar retry SERIAL`.\n"
      "A cell holding a control character (ESC, BEL, ...) is refused.\n\n" +
      std::string(kStrictHelp) +
      "exit code: 0 every device queued or already queued, 1 rows refused, 3 no service\n";
  return text;
}

const std::vector<Command>& commands() {
  static const std::vector<Command> table{
      {"version", "", "show the client's and the service's versions", cmd_version},
      {"ping", "", "check that the service answers, and how fast", cmd_ping},
      {"status", "", "service version, uptime and queue depth", cmd_status},
      {"validate", "FILE... [--strict] [--expect-build BUILD [--allow-build-mismatch]]",
       "check hash CSV files offline (any Excel save, any locale): every problem with file:line "
       "and field",
       cmd_validate, validate_help()},
      {"merge",
       "FILE... -o OUT [--split N | --no-split] [--group-tag TAG] [--strict] [--expect-build "
       "BUILD [--allow-build-mismatch]]",
       "merge hash files into the portal's upload format, duplicates removed", cmd_merge,
       merge_help()},
      {"import",
       "FILE... --profile standard|sensitive-data|power-user [--group-tag TAG] [--user UPN] "
       "[--strict] [--expect-build BUILD [--allow-build-mismatch]]",
       "validate hash files and queue their devices for registration", cmd_import, import_help()},
      {"list", "[--state S] [--profile P] [--since T] [--limit N] [--wide] [--handoff]",
       "list devices (--state ready-for-user: the hand-off list)", cmd_list},
      {"show", "SERIAL", "one device: record, hash summary, state history, last error", cmd_show},
      {"deliver", "SERIAL [--user UPN]",
       "hand a Ready-for-user device to a licensed user (assigns the user in Autopilot)",
       cmd_deliver},
      {"remove", "SERIAL [--force]",
       "take a device out of the queue (--force: even while Registration Pending)", cmd_remove},
      {"deregister", "SERIAL [--yes] [--force]",
       "delete a device's Windows Autopilot registration in the tenant (asks first)",
       cmd_deregister},
      {"export", "[--format csv|json] [-o FILE] [--state S] [--profile P] [--since T]",
       "write the queue as a portal CSV or as JSON", cmd_export},
      {"retry", "SERIAL | --failed [--force]",
       "queue failed devices for registration again (--failed skips permanent failures)",
       cmd_retry},
      {"pause", "", "stop uploading to the cloud (devices stay queued)", cmd_pause},
      {"resume", "", "resume uploading", cmd_resume},
      {"refresh", "[--no-wait]",
       "read enrollment and last sync of registered devices now (Active / Inactive)", cmd_refresh},
      {"sync", "[--no-wait]",
       "add devices a partner registered with our group tag (or one in tag_profiles), report "
       "tenant devices without a group tag, refresh activity, and put devices back in their "
       "profile's group (profile_groups)",
       cmd_sync},
      {"watch",
       "[--state S] [--since T | --from-seq N] [--count N] [-v] [--heartbeat-ms MS] "
       "[--no-reconnect]",
       "print device state changes live (Ctrl-C to stop)", cmd_watch},
      {"capture", "[--output DIR] [--combined FILE] [--group-tag TAG] [--user UPN] [--no-queue]",
       "read this device's hash (Windows, as administrator) into a CSV and queue it", cmd_capture},
      {"config",
       "show | set-credentials --tenant GUID --client-id GUID [--secret-stdin] [--no-verify] "
       "[--force] | clear-credentials [--yes]",
       "the cloud credentials: show them (never the secret), set them (secret typed without "
       "echo, or piped with --secret-stdin; admin only), remove them",
       cmd_config},
  };
  return table;
}

std::vector<std::string_view> command_names() {
  std::vector<std::string_view> names;
  for (const auto& c : commands()) names.push_back(c.name);
  names.push_back("help");
  return names;
}

std::string usage_text() {
  std::ostringstream s;
  s << "usage: hangar [--endpoint ENDPOINT] [--json] [--timeout SECONDS] COMMAND [ARGS]\n\n"
       "commands:\n";
  for (const auto& c : commands()) {
    s << "  " << c.name;
    if (!c.synopsis.empty()) s << " " << c.synopsis;
    s << "\n      " << c.summary << "\n";
  }
  s << "  help [COMMAND]\n      show this help, or a command's options and examples (also: "
       "hangar COMMAND --help)\n\n"
       "validate and merge work offline; the other commands talk to the service.\n"
       "states: "
    << core::accepted_state_names()
    << " (any case; spaces, - or _ between words, or none).\n"
       "environment: HANGAR_ENDPOINT (default "
    << core::default_client_endpoint()
    << ").\n"  // a sentence's end: wrapping never runs the next line onto it (black-box round 10)
       "exit codes: 0 ok, 1 command failed (or invalid input found), 2 usage error, 3 service "
       "unreachable.\n";
  return core::wrap_lines(s.str());
}

}  // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return run_with(args, nullptr, out, err);
}

int run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
        std::ostream& err) {
  return run_with(args, &in, out, err);
}

namespace {

int run_with(const std::vector<std::string>& args, std::istream* in, std::ostream& out,
             std::ostream& err) {
  Io io{out, err, &err == &std::cerr && stderr_is_terminal(), in,
        in == &std::cin && stdin_is_terminal()};
  Globals globals;
  bool help = false;
  globals.endpoint = core::env("HANGAR_ENDPOINT");
  if (globals.endpoint.empty()) globals.endpoint = core::default_client_endpoint();

  std::vector<std::string> rest;
  std::set<std::string> given;  // the global options seen: each may be given once
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (const std::string flag = a.substr(0, a.find('='));
        (flag == "--json" || flag == "--endpoint" || flag == "--timeout") &&
        !given.insert(flag).second) {
      err << "hangar: " << flag << " given twice\nrun `hangar help` for the commands\n";
      return kUsage;
    }
    auto value = [&](const char* flag) -> std::optional<std::string> {
      std::string prefix = std::string(flag) + "=";
      if (a.rfind(prefix, 0) == 0) return a.substr(prefix.size());
      if (a == flag) {
        if (i + 1 < args.size()) return args[++i];
        return std::string();
      }
      return std::nullopt;
    };
    if (a == "--json") {
      globals.json = true;
    } else if (a == "-h" || a == "--help") {
      help = true;
    } else if (auto e = value("--endpoint")) {
      if (e->empty()) {
        err << "hangar: --endpoint needs a value\n";
        return kUsage;
      }
      globals.endpoint = *e;
    } else if (auto t = value("--timeout")) {
      try {
        std::size_t used = 0;
        double seconds = std::stod(*t, &used);
        // inf, nan and 1e308 parse as numbers; none converts to milliseconds.
        if (used != t->size() || !std::isfinite(seconds) || seconds <= 0 ||
            seconds > kMaxTimeoutSeconds) {
          throw std::invalid_argument("range");
        }
        globals.timeout =
            std::chrono::milliseconds(std::max<std::int64_t>(1, std::llround(seconds * 1000)));
      } catch (const std::exception&) {
        err << "hangar: --timeout needs a positive number of seconds, at most "
            << kMaxTimeoutSeconds << " (a day), not \"" << printable_argument(*t) << "\"\n";
        return kUsage;
      }
    } else {
      rest.push_back(a);
    }
  }
  io.json = globals.json;
  // A usage error before any command ran: one line (and a JSON error object under --json).
  const auto top_usage_error = [&](const std::string& message) {
    err << "hangar: " << message << "\nrun `hangar help` for the commands\n";
    if (globals.json) {
      out << json_text(Json{{"ok", false}, {"error", {{"code", "usage"}, {"message", message}}}})
          << "\n";
    }
    return kUsage;
  };
  const auto unknown_command = [&](const std::string& name, std::string_view context) {
    // "--jsno": a mistyped global option, not a command.
    if (name.size() > 1 && name.front() == '-') {
      return top_usage_error(std::string(context) + "unknown option \"" + printable_argument(name) +
                             "\"" +
                             did_you_mean(name, {"--json", "--endpoint", "--timeout", "--help"}));
    }
    return top_usage_error(std::string(context) + "unknown command \"" + printable_argument(name) +
                           "\"" + did_you_mean(name, command_names()));
  };
  if (!help && !rest.empty() && rest.front() == "help") {
    help = true;
    rest.erase(rest.begin());
  }
  if (help) {
    // `hangar validate --help`, `hangar help validate`: that command's help.
    if (rest.empty() || rest.front() == "help") {
      out << usage_text();
      return kOk;
    }
    // `hangar config set-credentials --help`: config's subcommands share config's help
    // (black-box round 11: a usage error about a `help` nobody typed).
    const bool config_subcommand =
        rest.front() == "config" && rest.size() > 1 &&
        (rest[1] == "show" || rest[1] == "set-credentials" || rest[1] == "clear-credentials");
    if (rest.size() > 1 && rest.front() != rest[1] && rest[1] != "--help" && rest[1] != "-h" &&
        !config_subcommand) {
      return top_usage_error("help takes one command, not also \"" + printable_argument(rest[1]) +
                             "\"");
    }
    for (const auto& c : commands()) {
      if (c.name != rest.front()) continue;
      print_command_help(c, out);
      return kOk;
    }
    return unknown_command(rest.front(), "help: ");
  }
  if (rest.empty()) {
    err << usage_text();
    return kUsage;
  }
  for (const auto& c : commands()) {
    if (c.name == rest.front()) {
      std::vector<std::string> command_args(rest.begin() + 1, rest.end());
      globals.command = std::string(c.name);
      // A command that takes nothing says so, rather than ignoring what was typed.
      if (c.synopsis.empty() && !command_args.empty()) {
        return usage_error(io, c.name,
                           "takes no arguments, not \"" + printable_argument(command_args.front()) +
                               "\"" + did_you_mean(command_args.front(), command_names()));
      }
      // Human output shows a control character from the service's data escaped, never raw;
      // --json and export's data are written exactly (attack round 5, finding 06).
      std::optional<core::TerminalSafeStream> safe_out;
      std::optional<core::TerminalSafeStream> safe_err;
      if (!globals.json && c.name != "export") {
        safe_out.emplace(out, core::CarriageReturns::kOnlyBeforeLineFeed);
      }
      if (!globals.json) safe_err.emplace(err, core::CarriageReturns::kAnywhere);
      return c.run(globals, command_args, io);
    }
  }
  return unknown_command(rest.front(), "");
}

}  // namespace

}  // namespace hangar::cli
