// The hangar CLI (see cli.h). Every command supports --json; errors name the endpoint and the
// cause.
#include "cli.h"

#include "capture_cmd.h"
#include "cli_common.h"
#include "config_cmds.h"
#include "hangar/ipc/device_wire.h"
#include "help.h"
#include "suggest.h"

#include <chrono>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>
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
#include "hangar/core/version.h"
#include "hangar/ipc/client.h"
#include "hangar/ipc/commands.h"

namespace hangar::cli {

namespace {

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

std::string format_duration(std::int64_t seconds) {
  std::ostringstream s;
  std::int64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60,
               sec = seconds % 60;
  if (d) s << d << "d ";
  if (d || h) s << h << "h ";
  if (d || h || m) s << m << "m ";
  s << sec << "s";
  return s.str();
}

int cmd_version(const Globals& g, const std::vector<std::string>&, Io& io) {
  auto client = ipc::Client::connect(g.endpoint, std::chrono::seconds(2));
  Json service;
  std::string service_error;
  if (client) {
    auto result = client->call("version", Json::object(), g.timeout);
    if (result) {
      service = *result;
    } else {
      service_error = result.error().message;
    }
  } else {
    service_error = client.error().message;
  }
  if (g.json) {
    Json j{{"client_version", core::kVersion},
           {"platform", core::kPlatform},
           {"protocol", ipc::kProtocolVersion}};
    if (!service.is_null())
      j["service"] = service;
    else
      j["service_error"] = service_error;
    io.out << json_text(j) << "\n";
  } else {
    io.out << "hangar " << core::kVersion << " (" << core::kPlatform << ", protocol "
           << ipc::kProtocolVersion << ")\n";
    if (!service.is_null()) {
      io.out << "service " << service.value("service_version", "?") << " ("
             << service.value("platform", "?") << ", protocol " << service.value("protocol", 0)
             << ") at " << g.endpoint << "\n";
    } else {
      io.out << "service: not reachable (" << service_error << ")\n";
    }
  }
  return kOk;  // the client's own version is always known
}

int cmd_ping(const Globals& g, const std::vector<std::string>&, Io& io) {
  auto start = std::chrono::steady_clock::now();
  auto result = call(g, io, "ping");
  if (auto* code = std::get_if<int>(&result)) return *code;
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
  if (g.json) {
    io.out << json_text(Json{{"ok", true}, {"endpoint", g.endpoint}, {"round_trip_us", micros}})
           << "\n";
  } else {
    io.out << "pong from " << g.endpoint << " in " << std::fixed << std::setprecision(1)
           << static_cast<double>(micros) / 1000.0 << " ms\n";
  }
  return kOk;
}

// One line for a profile-group sweep (status and sync print it alike).
std::string group_summary(const Json& sweep) {
  std::ostringstream s;
  s << sweep.value("devices", 0) << " device(s) checked, " << sweep.value("added", 0)
    << " added to their profile's group, " << sweep.value("removed", 0)
    << " removed from another profile's group, " << sweep.value("removals_skipped", 0)
    << " removal(s) skipped, " << sweep.value("skipped", 0)
    << " without an Entra ID device id yet, " << sweep.value("errors", 0) << " error(s), "
    << sweep.value("requests", 0) << " call(s)";
  return s.str();
}

int cmd_status(const Globals& g, const std::vector<std::string>&, Io& io) {
  auto result = call(g, io, "status");
  if (auto* code = std::get_if<int>(&result)) return *code;
  const Json& s = std::get<Json>(result);
  if (g.json) {
    io.out << json_text(s) << "\n";
    return kOk;
  }
  io.out << "Hangar service " << s.value("service_version", "?") << " (" << s.value("platform", "?")
         << ") at " << g.endpoint << "\n";
  io.out << "  uptime        " << format_duration(s.value("uptime_seconds", std::int64_t{0}))
         << "\n";
  io.out << "  queue depth   " << s.value("queue_depth", std::int64_t{0})
         << " device(s) not yet registered\n";
  io.out << "  data dir      " << s.value("data_dir", "?") << "\n";
  if (s.contains("cloud")) {
    const Json& c = s["cloud"];
    io.out << "  cloud         " << c.value("url", "?") << ": "
           << (c.value("paused", false)  ? "uploads paused"
               : c.value("online", true) ? "online"
                                         : "offline (retrying)")
           << ", " << c.value("requests", std::int64_t{0}) << " request(s), "
           << c.value("throttled", std::int64_t{0}) << " throttled\n";
    if (c.contains("mode")) {
      const std::string mode = c.value("mode", "");
      io.out << "  credentials   "
             << (mode == "tenant" ? "tenant " + c.value("tenant_id", "?") + " (" +
                                        c.value("credentials", "") + ")"
                 : mode == "simulated" ? std::string("the simulated cloud's test tenant")
                                       : c.value("credentials", "not configured"))
             << "\n";
    }
    if (c.contains("next_retry_at")) {
      io.out << "  next retry    " << format_time(c["next_retry_at"].get<std::int64_t>()) << "\n";
    }
    if (c.contains("needs_attention") && c["needs_attention"].is_array()) {
      for (const Json& form : c["needs_attention"]) {
        io.out << "  ATTENTION     the cloud keeps refusing " << form.value("request", "?") << " ("
               << form.value("purpose", "?") << "): HTTP " << form.value("http_status", 0)
               << " since " << format_time(form.value("since", std::int64_t{0})) << ", request id "
               << form.value("request_id", "none given") << "; "
               << (form.value("fallback", "").empty() ? std::string("that work waits")
                                                      : form.value("fallback", ""))
               << "\n";
      }
    }
    if (c.contains("last_error")) {
      io.out << "  last error    ";
      if (c.contains("last_error_at")) {
        io.out << format_time(c["last_error_at"].get<std::int64_t>()) << ": ";
      }
      io.out << c["last_error"].get<std::string>();
      if (c.contains("last_error_resolved_at")) {
        io.out << " (resolved: calls succeed again since "
               << format_time(c["last_error_resolved_at"].get<std::int64_t>()) << ")";
      }
      io.out << "\n";
    }
    if (c.contains("activity") && c["activity"].contains("last_pass_at")) {
      const Json& a = c["activity"];
      io.out << "  activity      " << format_time(a["last_pass_at"].get<std::int64_t>()) << ": "
             << a.value("active", 0) << " active, " << a.value("inactive", 0) << " inactive; next "
             << format_time(a.value("next_pass_at", std::int64_t{0})) << "\n";
    }
    if (c.contains("groups")) {
      const Json& gr = c["groups"];
      io.out << "  groups        ";
      if (!gr.value("configured", false)) {
        io.out << "no profile_groups configured: no group sweep\n";
      } else if (gr.contains("last_sweep")) {
        const Json& l = gr["last_sweep"];
        io.out << format_time(l.value("finished_at", std::int64_t{0})) << ": " << group_summary(l)
               << "; next " << format_time(gr.value("next_sweep_at", std::int64_t{0})) << "\n";
        if (l.contains("last_error")) {
          io.out << "  group error   " << l["last_error"].get<std::string>() << "\n";
        }
      } else {
        io.out << (gr.value("running", false) ? "first sweep under way" : "no sweep yet")
               << "; next " << format_time(gr.value("next_sweep_at", std::int64_t{0})) << "\n";
      }
    }
  }
  if (s.contains("states") && !s["states"].empty()) {
    io.out << "  devices by state:\n";
    for (const auto& [state, count] : s["states"].items()) {
      io.out << "    " << std::left << std::setw(22) << state << count.get<std::int64_t>() << "\n";
    }
  }
  return kOk;
}

int simple_write(const Globals& g, Io& io, const std::string& command, const Json& args,
                 const std::function<std::string(const Json&)>& say) {
  auto result = call(g, io, command, args);
  if (auto* code = std::get_if<int>(&result)) return *code;
  const Json& reply = std::get<Json>(result);
  if (g.json) {
    Json out = reply;
    out["ok"] = true;
    io.out << json_text(out) << "\n";
  } else {
    io.out << say(reply) << "\n";
  }
  return kOk;
}

// Asks for an activity pass (which also adds partner-registered devices) and waits (up to
// --timeout) for it to finish, then reports it. `hangar sync` is the same pass, worded for
// partner devices, followed by a profile-group sweep when profile groups are configured.
int activity_pass(const Globals& g, const std::vector<std::string>& args, Io& io,
                  const char* name) {
  auto parsed = parse_args(args, {}, {"--no-wait"});
  if (!parsed) return usage_error(io, name, parsed.error().message);
  if (!parsed->positional.empty()) return usage_error(io, name, "takes no arguments");
  const bool with_groups = std::string(name) == "sync";
  const auto section = [](const Json& status, const char* key) -> const Json* {
    return status.contains("cloud") && status["cloud"].contains(key) ? &status["cloud"][key]
                                                                     : nullptr;
  };
  const auto last_pass = [&](const Json& status) -> std::int64_t {
    const Json* activity = section(status, "activity");
    return activity ? activity->value("last_pass_at", std::int64_t{0}) : std::int64_t{0};
  };
  const auto last_sweep = [&](const Json& status) -> std::int64_t {
    const Json* groups = section(status, "groups");
    return groups && groups->contains("last_sweep")
               ? (*groups)["last_sweep"].value("finished_at", std::int64_t{0})
               : std::int64_t{0};
  };
  auto before = call(g, io, "status");
  if (auto* code = std::get_if<int>(&before)) return *code;
  const Json* groups_before = section(std::get<Json>(before), "groups");
  const bool sweep = with_groups && groups_before && groups_before->value("configured", false);
  const std::int64_t previous = last_pass(std::get<Json>(before));
  const std::int64_t previous_sweep = last_sweep(std::get<Json>(before));
  auto asked = call(g, io, "refresh");
  if (auto* code = std::get_if<int>(&asked)) return *code;
  if (sweep) {
    auto swept = call(g, io, "sweep-groups");
    if (auto* code = std::get_if<int>(&swept)) return *code;
  }
  if (parsed->has("--no-wait")) {
    io.out << (g.json
                   ? json_text(Json{{"ok", true}, {"refresh", "requested"}, {"group_sweep", sweep}})
                   : std::string("activity refresh requested") +
                         (sweep ? "; profile-group sweep requested" : ""))
           << "\n";
    return kOk;
  }
  const auto deadline = std::chrono::steady_clock::now() + g.timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto now = call(g, io, "status");
    if (auto* code = std::get_if<int>(&now)) return *code;
    const Json& status = std::get<Json>(now);
    const Json* cloud = status.contains("cloud") ? &status["cloud"] : nullptr;
    if (cloud && cloud->value("online", true) == false) {
      // The service answered; the cloud did not. Exit 3 means "service unreachable" only.
      return report_error(
          core::make_error("cloud_offline",
                           std::string("the cloud is offline") +
                               (cloud->contains("last_error")
                                    ? " (" + cloud->value("last_error", std::string()) + ")"
                                    : std::string()) +
                               "; the service runs the " +
                               (sweep ? "activity pass and group sweep" : "activity pass") +
                               " once it is reachable again (see hangar status)"),
          g, io);
    }
    if (last_pass(status) > previous && (!sweep || last_sweep(status) > previous_sweep)) {
      const Json& a = status["cloud"]["activity"];
      if (g.json) {
        Json out{{"ok", true}, {"activity", a}};
        if (sweep) out["groups"] = status["cloud"]["groups"]["last_sweep"];
        io.out << json_text(out) << "\n";
      } else {
        io.out << a.value("partners_added", 0)
               << " partner-registered device(s) added; activity pass: " << a.value("devices", 0)
               << " registered device(s), " << a.value("active", 0) << " active, "
               << a.value("inactive", 0) << " inactive; " << a.value("rows_written", 0)
               << " changed, " << a.value("requests", 0) << " list call(s)\n";
        if (sweep) {
          const Json& last = status["cloud"]["groups"]["last_sweep"];
          io.out << "profile groups: " << group_summary(last) << "\n";
          // Removals held back: the device stays where it is, and why.
          for (const auto& kept : last.value("skipped_removals", Json::array())) {
            io.out << "  not removed: " << kept.value("serial", "") << " stays in "
                   << kept.value("group_id", "") << " (" << kept.value("profile", "")
                   << "'s group): " << kept.value("reason", "") << "\n";
          }
          if (const std::int64_t more =
                  last.value("removals_skipped", std::int64_t{0}) -
                  static_cast<std::int64_t>(last.value("skipped_removals", Json::array()).size());
              more > 0) {
            io.out << "  and " << more << " more (see the service log)\n";
          }
        } else if (with_groups) {
          io.out << "profile groups: not configured (profile_groups in hangar.json)\n";
        }
      }
      return kOk;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // Not kTimeout: the service answered every call; exit 3 is for a service that does not.
  return report_error(
      core::make_error("not_finished",
                       std::string("the ") +
                           (sweep ? "activity pass and group sweep" : "activity pass") +
                           " did not finish in time (the cloud may be "
                           "offline or throttling; see hangar status)"),
      g, io);
}

int cmd_refresh(const Globals& g, const std::vector<std::string>& args, Io& io) {
  return activity_pass(g, args, io, "refresh");
}

int cmd_sync(const Globals& g, const std::vector<std::string>& args, Io& io) {
  return activity_pass(g, args, io, "sync");
}

int cmd_retry(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {}, {"--failed"});
  if (!parsed) return usage_error(io, "retry", parsed.error().message);
  Json request = Json::object();
  if (parsed->has("--failed") && parsed->positional.empty()) {
    request["failed"] = true;
  } else if (!parsed->has("--failed") && parsed->positional.size() == 1) {
    request["serial"] = parsed->positional.front();
  } else {
    return usage_error(io, "retry", "name one serial, or --failed for every failed device");
  }
  return simple_write(g, io, "retry", request, [](const Json& r) {
    return std::to_string(r.value("requeued", 0)) + " device(s) queued for registration again";
  });
}

int cmd_pause(const Globals& g, const std::vector<std::string>&, Io& io) {
  return simple_write(g, io, "pause", Json::object(), [](const Json&) {
    return std::string("uploads paused; devices stay queued (hangar resume to continue)");
  });
}

int cmd_resume(const Globals& g, const std::vector<std::string>&, Io& io) {
  return simple_write(g, io, "resume", Json::object(),
                      [](const Json&) { return std::string("uploads resumed"); });
}

// `hangar capture`: the capture itself lives in capture_cmd.cpp; queuing goes through `import`,
// so the service validates a captured device exactly like one from a file.
int cmd_capture(const Globals& g, const std::vector<std::string>& args, Io& io) {
  const auto queue = [&g](const core::DeviceRecord& device) -> core::Result<std::string> {
    auto client = connect(g);
    if (!client) return client.error();
    auto reply = client->call(
        "import", Json{{"devices", Json::array({ipc::device_to_wire(device)})}}, g.timeout);
    if (!reply) return reply.error();
    const Json& result = (*reply)["results"].at(0);
    const std::string outcome = result.value("outcome", "");
    if (outcome == "accepted") return std::string("queued for registration");
    if (outcome == "already_queued") return std::string("already queued");
    return core::make_error("rejected", result.value("reason", outcome));
  };
  return run_capture(args, g.json, io.out, io.err, queue);
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
    "from the hash's in any other way (another device's hash) is a warning naming both; a\n"
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
      "  --group-tag TAG       the group tag for rows without one\n" +
      std::string(kStrictHelp) + "exit code: 0 every row written, 1 rows left out or errors\n";
  return text;
}

const std::string& import_help() {
  static const std::string text =
      std::string(kHashFileHelp) +
      "\nValid rows are sent to the service in batches (with the hash's serial where Excel had\n"
      "changed the file's); the service checks each device again, the same way, and queues\n"
      "it.\n\n"
      "  --profile P           standard, sensitive-data or power-user (required)\n"
      "  --group-tag TAG       for rows without one (default Microsoft365Managed_Autopilot)\n"
      "  --user UPN            the assigned user for rows without one\n" +
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
      {"list", "[--state S] [--profile P] [--since T] [--limit N] [--wide]",
       "list devices (--state ready-for-user: the hand-off list)", cmd_list},
      {"show", "SERIAL", "one device: record, hash summary, state history, last error", cmd_show},
      {"deliver", "SERIAL --user UPN",
       "hand a Ready-for-user device to a licensed user (assigns the user in Autopilot)",
       cmd_deliver},
      {"remove", "SERIAL", "take a device out of the queue (not while Registration Pending)",
       cmd_remove},
      {"export", "[--format csv|json] [-o FILE] [--state S] [--profile P] [--since T]",
       "write the queue as a portal CSV or as JSON", cmd_export},
      {"retry", "SERIAL | --failed", "queue failed devices for registration again", cmd_retry},
      {"pause", "", "stop uploading to the cloud (devices stay queued)", cmd_pause},
      {"resume", "", "resume uploading", cmd_resume},
      {"refresh", "[--no-wait]",
       "read enrollment and last sync of registered devices now (Active / Inactive)", cmd_refresh},
      {"sync", "[--no-wait]",
       "add devices a partner registered with our group tag, refresh activity, and put devices "
       "back in their profile's group (profile_groups)",
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
    << " (any case; spaces, - or _ between words, or none)\n"
       "environment: HANGAR_ENDPOINT (default "
    << core::default_endpoint()
    << ")\n"
       "exit codes: 0 ok, 1 command failed (or invalid input found), 2 usage error, 3 service "
       "unreachable\n";
  return s.str();
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
  if (globals.endpoint.empty()) globals.endpoint = core::default_endpoint();

  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
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
        if (used != t->size() || seconds <= 0) throw std::invalid_argument("range");
        globals.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
      } catch (const std::exception&) {
        err << "hangar: --timeout needs a positive number of seconds, not \"" << *t << "\"\n";
        return kUsage;
      }
    } else {
      rest.push_back(a);
    }
  }
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
    for (const auto& c : commands()) {
      if (c.name != rest.front()) continue;
      print_command_help(c, out);
      return kOk;
    }
    err << "hangar help: unknown command \"" << rest.front() << "\""
        << did_you_mean(rest.front(), command_names()) << "\nrun `hangar help` for the commands\n";
    return kUsage;
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
                           "takes no arguments, not \"" + command_args.front() + "\"" +
                               did_you_mean(command_args.front(), command_names()));
      }
      return c.run(globals, command_args, io);
    }
  }
  err << "hangar: unknown command \"" << rest.front() << "\""
      << did_you_mean(rest.front(), command_names()) << "\nrun `hangar help` for the commands\n";
  return kUsage;
}

}  // namespace

}  // namespace hangar::cli
