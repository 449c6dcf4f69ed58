// `hangar watch`: prints device state changes live, from the service's `subscribe` stream.
#include <chrono>
#include <utility>

#include "cli_common.h"
#include "hangar/core/device.h"
#include "hangar/core/stop.h"
#include "hangar/ipc/event_stream.h"

namespace hangar::cli {

namespace {

std::string state_label(const Json& key) {
  if (!key.is_string()) return "(new)";
  const auto& text = key.get_ref<const std::string&>();
  auto state = core::parse_device_state(text);
  return state ? std::string(core::display_name(*state)) : text;
}

// "12 Queued, 3 Registration Pending, ..." from a status reply, for the line after a gap.
std::string counts_line(const Json& status) {
  std::string line;
  if (!status.contains("states")) return line;
  for (const auto& [key, count] : status["states"].items()) {
    if (!count.is_number_integer() || count.get<std::int64_t>() == 0) continue;
    if (!line.empty()) line += ", ";
    line += std::to_string(count.get<std::int64_t>()) + " " + state_label(Json(key));
  }
  return line.empty() ? std::string("the queue is empty") : line;
}

struct WatchOptions {
  std::optional<std::int64_t> since;
  std::optional<std::string> state;  // storage key to keep, or all
  std::optional<std::int64_t> count;
  bool reconnect = true;
  std::optional<std::int64_t> heartbeat_ms;
};

}  // namespace

int cmd_watch(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed =
      parse_args(args, {"--since", "--state", "--count", "--heartbeat-ms"}, {"--no-reconnect"});
  if (!parsed) return usage_error(io, "watch", parsed.error().message);
  if (!parsed->positional.empty()) return usage_error(io, "watch", "takes no arguments");
  WatchOptions options;
  options.reconnect = !parsed->has("--no-reconnect");
  const auto number = [&](const char* flag, std::int64_t min) -> std::optional<std::int64_t> {
    auto text = parsed->value(flag);
    if (!text) return std::nullopt;
    try {
      std::size_t used = 0;
      const std::int64_t value = std::stoll(*text, &used);
      if (used == text->size() && value >= min) return value;
    } catch (const std::exception&) {
    }
    return std::int64_t{-1};
  };
  options.since = number("--since", 0);
  if (options.since && *options.since < 0) {
    return usage_error(io, "watch", "--since takes a sequence number (a change's #)");
  }
  options.count = number("--count", 1);
  if (options.count && *options.count < 1) {
    return usage_error(io, "watch", "--count takes a positive number");
  }
  if (auto hb = number("--heartbeat-ms", 100)) {
    if (*hb < 100 || *hb > 60'000) {
      return usage_error(io, "watch", "--heartbeat-ms takes 100 to 60000");
    }
    options.heartbeat_ms = *hb;
  }
  if (auto text = parsed->value("--state")) {
    auto state = core::parse_device_state(*text);
    if (!state) {
      return usage_error(io, "watch",
                         "unknown state \"" + *text + "\"; use " + core::accepted_state_names());
    }
    options.state = std::string(core::storage_key(*state));
  }

  ipc::EventStreamOptions stream_options;
  stream_options.since = options.since;
  stream_options.heartbeat_ms = options.heartbeat_ms;
  stream_options.reconnect = options.reconnect;
  stream_options.first_retry = std::chrono::milliseconds(500);
  stream_options.max_retry = std::chrono::milliseconds(10'000);
  core::SystemClock clock;
  ipc::EventStream stream(g.endpoint, stream_options, clock);
  core::StopSource never;  // watch runs until --count or Ctrl-C
  std::int64_t shown = 0;
  bool new_history = false;  // the last subscription met a new history: the next one replays it
  using Kind = ipc::StreamEvent::Kind;
  for (;;) {
    const ipc::StreamEvent event = stream.next(std::chrono::seconds(1), never.token());
    switch (event.kind) {
      case Kind::kNothing:
      case Kind::kHeartbeat:
        break;
      case Kind::kSubscribed:
        // The subscription after a new history is met replays it from its start: said already.
        if (std::exchange(new_history, event.history_reset && event.seq > 0)) break;
        if (g.json) break;
        if (!event.resumed) {
          io.err << "watching " << g.endpoint << " (Ctrl-C to stop)\n";
        } else if (event.history_reset) {
          io.err << "-- reconnected to a service with a new history (another data directory?); "
                    "showing its changes from #1\n";
        } else {
          io.err << "-- reconnected; resuming after #" << stream.cursor().resume_seq().value_or(0)
                 << "\n";
        }
        break;
      case Kind::kDisconnected:
        if (!event.ever_subscribed || stream.ended()) {
          const std::string message =
              event.ever_subscribed ? "lost the connection to " + g.endpoint + ": " + event.reason
                                    : event.reason;
          return report_error(
              core::make_error(
                  event.ever_subscribed ? std::string(ipc::errc::kUnavailable) : event.code,
                  message),
              g, io);
        }
        if (!g.json) {
          io.err << "-- lost the service (" << event.reason << "); reconnecting\n";
        }
        break;
      case Kind::kGap: {
        Json snapshot = Json::object();
        if (auto status = call(g, io, "status"); std::holds_alternative<Json>(status)) {
          snapshot = std::get<Json>(status);
        }
        if (g.json) {
          Json line = event.frame;
          if (snapshot.contains("states")) line["states"] = snapshot["states"];
          io.out << json_text(line, -1) << std::endl;
        } else {
          io.out << "-- " << event.missed
                 << " change(s) not shown (this watcher fell behind); now: "
                 << counts_line(snapshot) << std::endl;
        }
        break;
      }
      case Kind::kChange: {
        const Json& change = event.frame;
        if (options.state && change.value("to", std::string()) != *options.state) break;
        if (g.json) {
          io.out << json_text(change, -1) << std::endl;
        } else {
          io.out << format_time(change.value("at", std::int64_t{0})) << "  #" << event.seq << "  "
                 << change.value("serial", std::string()) << "  "
                 << state_label(change.contains("from") ? change["from"] : Json()) << " -> "
                 << state_label(change.contains("to") ? change["to"] : Json());
          const std::string reason = change.value("reason", std::string());
          if (!reason.empty()) io.out << "  (" << reason << ")";
          io.out << std::endl;
        }
        if (options.count && ++shown >= *options.count) return kOk;
        break;
      }
    }
  }
}

}  // namespace hangar::cli
