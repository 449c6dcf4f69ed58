// `hangar watch`: prints device state changes live, from the service's `subscribe` stream.
#include <chrono>
#include <thread>

#include "cli_common.h"
#include "hangar/core/device.h"

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
  std::int64_t heartbeat_ms = 10'000;
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
                         "unknown state \"" + *text +
                             "\"; use queued, registration-pending, registration-failed, "
                             "ready-for-user, active or inactive");
    }
    options.state = std::string(core::storage_key(*state));
  }

  std::optional<std::int64_t> last_seq = options.since;
  std::int64_t shown = 0;
  bool ever_connected = false;
  auto backoff = std::chrono::milliseconds(500);
  for (;;) {
    auto client = connect(g);
    core::Result<Json> ack = client ? client->subscribe(last_seq, options.heartbeat_ms)
                                    : core::Result<Json>(client.error());
    if (!ack) {
      const bool unreachable =
          ack.error().code == ipc::errc::kUnavailable || ack.error().code == ipc::errc::kTimeout;
      if (!ever_connected || !options.reconnect || !unreachable)
        return report_error(ack.error(), g, io);
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(10'000));
      continue;
    }
    if (!ever_connected && !g.json) {
      io.err << "watching " << g.endpoint << " (Ctrl-C to stop)\n";
    } else if (ever_connected && !g.json) {
      io.err << "-- reconnected; resuming after #" << last_seq.value_or(0) << "\n";
    }
    ever_connected = true;
    backoff = std::chrono::milliseconds(500);
    if (!last_seq) last_seq = ack->value("seq", std::int64_t{0});
    const auto silence =
        std::chrono::milliseconds(ack->value("heartbeat_ms", options.heartbeat_ms) * 3);

    for (;;) {
      auto event = client->next_event(silence);
      if (!event) {
        if (!g.json) {
          io.err << "-- lost the service (" << event.error().message << ")"
                 << (options.reconnect ? "; reconnecting" : "") << "\n";
        }
        break;
      }
      const std::string type = event->value("type", std::string());
      if (type == "heartbeat") continue;
      if (type == "gap") {
        last_seq = event->value("seq", last_seq.value_or(0));
        Json snapshot = Json::object();
        if (auto status = call(g, io, "status"); std::holds_alternative<Json>(status)) {
          snapshot = std::get<Json>(status);
        }
        if (g.json) {
          Json line = *event;
          if (snapshot.contains("states")) line["states"] = snapshot["states"];
          io.out << line.dump() << std::endl;
        } else {
          io.out << "-- " << event->value("missed", std::uint64_t{0})
                 << " change(s) not shown (this watcher fell behind); now: "
                 << counts_line(snapshot) << std::endl;
        }
        continue;
      }
      if (type != "change") continue;  // a newer service's event kind: not ours to print
      last_seq = event->value("seq", last_seq.value_or(0));
      if (options.state && event->value("to", std::string()) != *options.state) continue;
      if (g.json) {
        io.out << event->dump() << std::endl;
      } else {
        io.out << format_time(event->value("at", std::int64_t{0})) << "  #" << *last_seq << "  "
               << event->value("serial", std::string()) << "  " << state_label((*event)["from"])
               << " -> " << state_label((*event)["to"]);
        const std::string reason = event->value("reason", std::string());
        if (!reason.empty()) io.out << "  (" << reason << ")";
        io.out << std::endl;
      }
      if (options.count && ++shown >= *options.count) return kOk;
    }
    if (!options.reconnect) {
      return report_error(
          core::make_error(ipc::errc::kUnavailable, "lost the connection to " + g.endpoint), g, io);
    }
  }
}

}  // namespace hangar::cli
