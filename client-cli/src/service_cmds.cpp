// The commands that ask the service about itself or tell it what to do: version, ping, status,
// refresh, sync, retry, pause, resume, and capture's queuing (split from cli.cpp).
#include "cli.h"

#include "capture_cmd.h"
#include "cli_common.h"
#include "config_cmds.h"
#include "hangar/ipc/device_wire.h"
#include "list_view.h"

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

// How much of the last cloud error `status` prints on its line.
constexpr std::size_t kStatusErrorWidth = 200;

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

// What the activity pass found beside our devices: partner devices given the profile their tag
// maps to, and tenant devices without any group tag (tracked only with track_untagged), the first
// few named.
void print_untagged(const Json& activity, Io& io) {
  if (const auto set = activity.value("profiles_set", std::int64_t{0}); set > 0) {
    io.out << set << " partner-registered device(s) given the profile their group tag maps to "
           << "(tag_profiles)\n";
  }
  const auto untagged = activity.value("untagged", std::int64_t{0});
  if (untagged == 0) return;
  const auto added = activity.value("untagged_added", std::int64_t{0});
  if (added >= untagged) {
    io.out << added << " device(s) without a group tag found in the tenant; now tracked "
           << "(track_untagged), without a profile:\n";
  } else {
    io.out << untagged << " device(s) in the tenant have no group tag and are not in Hangar; "
           << "not tracked (to track them: \"track_untagged\": true in hangar.json, or import "
           << "their CSV):\n";
  }
  const Json shown = activity.value("untagged_devices", Json::array());
  for (const auto& device : shown) {
    std::string make = device.value("manufacturer", std::string());
    const std::string model = device.value("model", std::string());
    if (!model.empty()) make += (make.empty() ? "" : " ") + model;
    io.out << "  " << device.value("serial", std::string())
           << (make.empty() ? std::string() : "  " + make) << "\n";
  }
  if (const auto more = untagged - static_cast<std::int64_t>(shown.size()); more > 0) {
    io.out << "  and " << more << " more (each is named in the service log)\n";
  }
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
        print_untagged(a, io);
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

}  // namespace

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
    // A request a few seconds old is worth a line: a normal one is answered in milliseconds.
    if (c.contains("waiting_since") && c.value("waiting_ms", std::int64_t{0}) >= 2000) {
      const std::int64_t waited = c.value("waiting_ms", std::int64_t{0}) / 1000;
      io.out << "  waiting       " << c.value("waiting_on", std::string("a request")) << ": sent "
             << format_time(c["waiting_since"].get<std::int64_t>()) << ", no answer yet after "
             << waited << " s";
      if (const auto more = c.value("requests_waiting", std::size_t{1}); more > 1) {
        io.out << " (" << more << " requests waiting)";
      }
      io.out << "\n";
    }
    if (c.contains("last_error")) {
      // A resolved error is history, not the state of things: "none" first, then what it was.
      const bool resolved = c.contains("last_error_resolved_at");
      io.out << "  last error    ";
      if (resolved) {
        io.out << "none now: calls succeed again since "
               << format_time(c["last_error_resolved_at"].get<std::int64_t>())
               << "\n  before that   ";
      }
      if (c.contains("last_error_at")) {
        io.out << format_time(c["last_error_at"].get<std::int64_t>()) << ": ";
      }
      // A Graph error quotes its whole answer (600 characters on one line): the start says what
      // happened; --json has it all.
      const std::string text = c["last_error"].get<std::string>();
      io.out << shorten(text, kStatusErrorWidth);
      if (display_width(text) > kStatusErrorWidth) io.out << " (all of it: hangar --json status)";
      io.out << "\n";
    }
    if (c.contains("activity") && c["activity"].contains("last_pass_at")) {
      const Json& a = c["activity"];
      io.out << "  activity      " << format_time(a["last_pass_at"].get<std::int64_t>()) << ": "
             << a.value("active", 0) << " active, " << a.value("inactive", 0) << " inactive; next "
             << format_time(a.value("next_pass_at", std::int64_t{0})) << "\n";
      if (const auto untagged =
              a.value("untagged", std::int64_t{0}) - a.value("untagged_added", std::int64_t{0});
          untagged > 0) {
        io.out << "  untagged      " << untagged
               << " device(s) in the tenant without a group tag, not tracked (hangar sync "
                  "lists them)\n";
      }
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
  // Registration Pending for longer than usual (the seed: under 10 minutes), with the cause.
  if (const std::int64_t long_pending = s.value("long_pending", std::int64_t{0});
      long_pending > 0) {
    io.out << "  PENDING LONG  " << long_pending
           << " device(s) Registration Pending for longer than usual:\n";
    if (s.contains("long_pending_devices")) {
      for (const auto& device : s["long_pending_devices"]) {
        io.out << "    " << device.value("serial", "?") << " since "
               << format_time(device.value("pending_since", std::int64_t{0})) << ": "
               << (device.value("cause", std::string()).empty()
                       ? std::string("cause not known yet")
                       : device.value("cause", std::string()))
               << "\n";
      }
    }
    io.out << "    (`hangar list --state registration-pending` shows them all; a device pending "
              "past the limit becomes Registration failed)\n";
  }
  return kOk;
}

int cmd_refresh(const Globals& g, const std::vector<std::string>& args, Io& io) {
  return activity_pass(g, args, io, "refresh");
}

int cmd_sync(const Globals& g, const std::vector<std::string>& args, Io& io) {
  return activity_pass(g, args, io, "sync");
}

int cmd_retry(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {}, {"--failed", "--force"});
  if (!parsed) return usage_error(io, "retry", parsed.error().message);
  Json request = Json::object();
  if (parsed->has("--failed") && parsed->positional.empty()) {
    request["failed"] = true;
  } else if (!parsed->has("--failed") && parsed->positional.size() == 1 &&
             !parsed->positional.front().empty()) {
    request["serial"] = parsed->positional.front();
  } else {
    return usage_error(io, "retry", "name one serial, or --failed for every failed device");
  }
  if (parsed->has("--force")) request["force"] = true;
  const std::string forced = parsed->has("--failed")
                                 ? std::string("hangar retry --failed --force")
                                 : "hangar retry " + parsed->positional.front() + " --force";
  return simple_write(g, io, "retry", request, [&forced](const Json& r) {
    std::string text =
        std::to_string(r.value("requeued", 0)) + " device(s) queued for registration again";
    // Permanent failures wait for the supplier: said, with how many and why.
    if (const std::int64_t skipped = r.value("skipped", std::int64_t{0}); skipped > 0) {
      text += "\n" + std::to_string(skipped) +
              " device(s) skipped: a retry cannot help until the supplier acts";
      if (r.contains("skipped_reasons")) {
        for (const auto& reason : r["skipped_reasons"]) {
          text += "\n  " + std::to_string(reason.value("devices", std::int64_t{0})) + " " +
                  reason.value("reason", std::string()) + ": " +
                  reason.value("advice", std::string());
        }
      }
      text += "\n(" + forced + " retries them too)";
    }
    return text;
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

}  // namespace hangar::cli
