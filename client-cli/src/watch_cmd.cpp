// `hangar watch`: prints device state changes live, from the service's `subscribe` stream.
#include <chrono>
#include <iostream>
#include <map>
#include <utility>

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

#include "cli_common.h"
#include "hangar/core/clock.h"
#include "hangar/core/device.h"
#include "hangar/core/firmware_values.h"
#include "hangar/core/principal_name.h"
#include "hangar/core/stop.h"
#include "hangar/ipc/client.h"
#include "hangar/ipc/event_stream.h"
#include "hangar/ipc/messages/status.h"

namespace hangar::cli {

namespace {

// One line of the watch: a state change, or a device leaving the queue ("removed").
struct ShownChange {
  std::int64_t seq = 0;
  std::int64_t at = 0;
  std::string serial;
  std::string from;
  std::string to;
  std::string reason;
};

std::string state_label(const std::optional<core::DeviceState>& state) {
  return state ? std::string(core::display_name(*state)) : std::string("(new)");
}

// "12 Queued, 3 Registration Pending, ..." from a status reply, for the line after a gap.
std::string counts_line(const ipc::msg::StatusReply& status) {
  std::string line;
  for (const auto& [state, count] : status.states) {
    if (count == 0) continue;
    if (!line.empty()) line += ", ";
    line += std::to_string(count) + " " + state_label(state);
  }
  return line.empty() ? std::string("the queue is empty") : line;
}

// The line for changes this watch did not show: how many, which (#after+1-#through), why, how to
// see them (a replay from the durable history), and the counts per state now (none: the status
// could not be read). Reconnecting or not, a gap and a lost stream are told the same way.
// `replayable` false: the history no longer has them, so no command can show them.
std::string gap_line(std::uint64_t missed, std::int64_t through, const std::string& why,
                     const ipc::msg::StatusReply* snapshot, bool replayable = true) {
  const std::int64_t after = through - static_cast<std::int64_t>(missed);
  std::string line =
      "-- " + std::to_string(missed) + " change(s) not shown (#" + std::to_string(after + 1) +
      (missed > 1 ? "-#" + std::to_string(through) : std::string()) + ": " + why + ")";
  if (replayable) {
    line += "; `hangar watch --from-seq " + std::to_string(after) + " --count " +
            std::to_string(missed) + "` shows them";
  }
  if (snapshot) line += "; now: " + counts_line(*snapshot);
  return line;
}

// The service's newest change number, from a subscription's acknowledgement (closed at once,
// parsed as ipc::msg::SubscribeReply); nullopt when the service cannot be reached.
std::optional<std::int64_t> newest_seq(const std::string& endpoint) {
  auto client = ipc::Client::connect(endpoint, std::chrono::seconds(2));
  if (!client) return std::nullopt;
  auto ack = client->subscribe(std::nullopt, std::nullopt, std::chrono::seconds(3));
  if (!ack) return std::nullopt;
  auto reply = ipc::msg::SubscribeReply::from_json(*ack);
  if (!reply) return std::nullopt;
  return reply->seq;
}

struct WatchOptions {
  std::optional<std::int64_t> from_seq;    // replay after this change number
  std::optional<std::int64_t> since_ms;    // replay the changes made since this time
  std::optional<core::DeviceState> state;  // the state to keep, or all
  bool removed_only = false;               // --state removed: only devices leaving the queue
  std::optional<std::int64_t> count;
  bool reconnect = true;
  bool verbose = false;
  std::optional<std::int64_t> heartbeat_ms;
};

bool stdout_is_terminal(const Io& io) {
  if (&io.out != &std::cout) return false;
#ifdef _WIN32
  return _isatty(_fileno(stdout)) != 0;
#else
  return isatty(STDOUT_FILENO) != 0;
#endif
}

// In a terminal, changes made together (a bulk import, a registration wave: within kBurstWindow of
// the first, by the changes' own times) at least this many at once are summed up per state
// instead of printed one by one.
constexpr std::size_t kBurst = 5;
// How long a burst may gather, and the pause between two changes that ends it.
constexpr std::chrono::milliseconds kBurstWindow{1500};
constexpr std::chrono::milliseconds kBurstPause{300};

// The removal's "to": the device has no state any more.
constexpr std::string_view kRemovedLabel = "removed from the queue";

ShownChange shown_change(const ipc::StreamEvent& event) {
  if (event.removed) {
    const auto& removed = *event.removed;
    return {removed.seq,
            removed.at,
            removed.serial,
            state_label(removed.from),
            std::string(kRemovedLabel),
            removed.reason};
  }
  const auto& change = *event.change;
  return {change.seq,   change.at, change.serial, state_label(change.from), state_label(change.to),
          change.reason};
}

std::string change_line(const ShownChange& change) {
  std::string line = format_time(change.at) + "  #" + std::to_string(change.seq) + "  " +
                     change.serial + "  " + change.from + " -> " + change.to;
  if (!change.reason.empty()) line += "  (" + change.reason + ")";
  return line;
}

// "312 devices Ready for user (#1201-#1512)", one line a state, in the order they came.
void print_burst(const std::vector<ShownChange>& burst, std::ostream& out) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::int64_t>> seqs;
  for (const auto& change : burst) {
    const std::string& to = change.to;
    if (!seqs.count(to)) order.push_back(to);
    seqs[to].push_back(change.seq);
  }
  // Stamped when the burst began: the same in a live watch and in its replay.
  const std::string at = format_time(burst.front().at);
  for (const auto& to : order) {
    const auto& list = seqs[to];
    out << at << "  " << list.size() << (list.size() == 1 ? " device " : " devices ") << to << " (#"
        << list.front() << (list.size() > 1 ? "-#" + std::to_string(list.back()) : "") << ")\n";
  }
  out << std::flush;
}

}  // namespace

int cmd_watch(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {"--since", "--from-seq", "--state", "--count", "--heartbeat-ms"},
                           {"--no-reconnect", "-v", "--verbose"});
  if (!parsed) return usage_error(io, "watch", parsed.error().message);
  if (!parsed->positional.empty()) return usage_error(io, "watch", "takes no arguments");
  WatchOptions options;
  options.reconnect = !parsed->has("--no-reconnect");
  options.verbose = parsed->has("-v") || parsed->has("--verbose");
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
  options.from_seq = number("--from-seq", 0);
  if (options.from_seq && *options.from_seq < 0) {
    return usage_error(io, "watch",
                       "--from-seq takes a change number (the # watch prints; 0: from the start), "
                       "not \"" +
                           parsed->value("--from-seq").value_or("") + "\"");
  }
  if (auto since = parsed->value("--since")) {
    if (options.from_seq) {
      return usage_error(io, "watch",
                         "--since (a time) and --from-seq (a change number) exclude "
                         "each other");
    }
    auto ms = parse_since(*since, core::SystemClock().now_ms());
    if (!ms) {
      return usage_error(io, "watch",
                         ms.error().message + "; to resume after change #N use --from-seq N");
    }
    options.since_ms = *ms;
    options.from_seq = 0;  // the history is read from its start, older changes skipped
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
    std::string word(core::trim_blanks(*text));
    for (char& c : word) c = core::lower_ascii(c);
    if (word == "removed") {
      options.removed_only = true;
    } else {
      auto state = state_argument(*text);
      if (!state) {
        return usage_error(io, "watch",
                           state.error().message +
                               "; or `removed` for devices taken out of the "
                               "queue");
      }
      options.state = *state;
    }
  }

  ipc::EventStreamOptions stream_options;
  stream_options.since = options.from_seq;
  stream_options.heartbeat_ms = options.heartbeat_ms;
  stream_options.reconnect = options.reconnect;
  stream_options.first_retry = std::chrono::milliseconds(500);
  stream_options.max_retry = std::chrono::milliseconds(10'000);
  core::SystemClock clock;
  ipc::EventStream stream(g.endpoint, stream_options, clock);
  core::StopSource never;  // watch runs until --count or Ctrl-C
  std::int64_t shown = 0;
  bool new_history = false;  // the last subscription met a new history: the next one replays it
  const bool summarise = !g.json && !options.verbose && stdout_is_terminal(io);
  using Kind = ipc::StreamEvent::Kind;
  std::optional<ipc::StreamEvent> held;  // an event read while gathering a burst, handled next
  // The outage was told: the reconnect attempts that follow say nothing until one succeeds
  // (black-box round 11: a line per attempt during an outage).
  bool outage_told = false;
  for (;;) {
    ipc::StreamEvent event =
        held ? std::move(*held) : stream.next(std::chrono::seconds(1), never.token());
    held.reset();
    switch (event.kind) {
      case Kind::kNothing:
      case Kind::kHeartbeat:
        break;
      case Kind::kSubscribed:
        outage_told = false;
        // The subscription after a new history is met replays it from its start: said already.
        if (std::exchange(new_history, event.history_reset && event.seq > 0)) break;
        if (g.json) {
          // A script reading the lines must learn that the numbers start again, or that the
          // stream resumed, as a reader of the text does (black-box round 10).
          const std::int64_t after = stream.cursor().resume_seq().value_or(0);
          if (event.history_reset && (event.resumed || options.from_seq)) {
            Json line{{"type", "history_reset"},
                      {"newest_seq", event.seq},
                      {"reason", event.resumed ? "reconnected to a service with a new history "
                                                 "(another data directory?); its changes follow "
                                                 "from #1"
                                               : "--from-seq is beyond this service's newest "
                                                 "change: a number from another history or a "
                                                 "typo; its changes follow from #1"}};
            if (options.from_seq) line["from_seq"] = *options.from_seq;
            io.out << json_text(line, -1) << std::endl;
          } else if (event.resumed) {
            io.out << json_text(Json{{"type", "reconnected"}, {"resume_after", after}}, -1)
                   << std::endl;
          }
          break;
        }
        if (!event.resumed) {
          io.err << "watching " << g.endpoint << " (Ctrl-C to stop)\n";
          if (event.history_reset && options.from_seq) {
            // A number beyond the newest change: copied from another history, or mistyped.
            io.err << "-- change #" << *options.from_seq << " is beyond this service's newest ("
                   << (event.seq > 0 ? "#" + std::to_string(event.seq) : std::string("none yet"))
                   << "): a number from another history (another data directory?) or a typo; "
                   << (event.seq > 0 ? "showing its changes from #1\n"
                                     : "showing its changes as they come\n");
          }
        } else if (event.history_reset) {
          io.err << "-- reconnected to a service with a new history (another data directory?); "
                    "showing its changes from #1\n";
        } else {
          io.err << "-- reconnected; resuming after #" << stream.cursor().resume_seq().value_or(0)
                 << "\n";
        }
        break;
      case Kind::kDisconnected:
        if (event.ever_subscribed && stream.ended()) {
          // --no-reconnect: the changes from here on are not shown. Say so as a gap does, with
          // how many the service has made since the last one shown, and how to see them.
          const std::int64_t last = stream.cursor().resume_seq().value_or(0);
          const auto newest = newest_seq(g.endpoint);
          const std::string why =
              "the stream was lost (" + event.reason + ") and --no-reconnect ends the watch";
          if (newest && *newest > last) {
            auto status = call_typed<ipc::msg::StatusReply>(g, io);
            const auto* snapshot = std::get_if<Typed<ipc::msg::StatusReply>>(&status);
            const auto missed = static_cast<std::uint64_t>(*newest - last);
            if (g.json) {
              Json line{{"type", "gap"},
                        {"missed", missed},
                        {"seq", *newest},
                        {"from_seq", last},
                        {"reason", why}};
              if (snapshot) line["states"] = snapshot->json["states"];
              io.out << json_text(line, -1) << std::endl;
            } else {
              io.out << gap_line(missed, *newest, why + ", so far",
                                 snapshot ? &snapshot->reply : nullptr)
                     << std::endl;
            }
          } else if (g.json) {
            // Nothing missed yet (missed 0), or how many is not known (null).
            io.out << json_text(Json{{"type", "gap"},
                                     {"missed", newest ? Json(0) : Json()},
                                     {"from_seq", last},
                                     {"reason", why}},
                                -1)
                   << std::endl;
          } else if (newest) {
            io.out << "-- no change missed so far (#" << last << " is the newest; " << why
                   << "); `hangar watch --from-seq " << last << "` shows the changes after it"
                   << std::endl;
          } else {
            io.out << "-- changes after #" << last << " not shown (" << why
                   << "; the service does not answer, so how many is not known); `hangar "
                      "watch --from-seq "
                   << last << "` shows them once it is back" << std::endl;
          }
        }
        if (!event.ever_subscribed || stream.ended()) {
          // The client's reason may already say so: the words once, not twice.
          const std::string lost = "lost the connection to " + g.endpoint;
          const std::string message = event.ever_subscribed && !event.reason.starts_with(lost)
                                          ? lost + ": " + event.reason
                                          : event.reason;
          return report_error(
              core::make_error(
                  event.ever_subscribed ? std::string(ipc::errc::kUnavailable) : event.code,
                  message),
              g, io, /*one_line=*/true);
        }
        if (std::exchange(outage_told, true)) break;
        if (g.json) {
          io.out << json_text(Json{{"type", "disconnected"},
                                   {"reason", event.reason},
                                   {"resume_after", stream.cursor().resume_seq().value_or(0)}},
                              -1)
                 << std::endl;
        } else {
          io.err << "-- lost the service (" << event.reason << "); reconnecting\n";
        }
        break;
      case Kind::kGap: {
        auto status = call_typed<ipc::msg::StatusReply>(g, io);
        const auto* snapshot = std::get_if<Typed<ipc::msg::StatusReply>>(&status);
        const bool lost = event.gap_cause == ipc::msg::GapEvent::kHistoryLost;
        if (g.json) {
          Json line = event.frame;
          line["from_seq"] = event.seq - static_cast<std::int64_t>(event.missed);
          if (snapshot) line["states"] = snapshot->json["states"];
          io.out << json_text(line, -1) << std::endl;
        } else if (lost) {
          io.out << gap_line(event.missed, event.seq,
                             "the history no longer has them: an earlier Hangar release "
                             "deleted a removed device's history with it",
                             snapshot ? &snapshot->reply : nullptr, false)
                 << std::endl;
        } else {
          io.out << gap_line(event.missed, event.seq, "this watcher fell behind",
                             snapshot ? &snapshot->reply : nullptr)
                 << std::endl;
        }
        // The missed changes count: --count always ends the watch, gap or not.
        shown += static_cast<std::int64_t>(event.missed);
        if (options.count && shown >= *options.count) return kOk;
        break;
      }
      case Kind::kChange:
      case Kind::kRemoved: {
        // The stream reports a change (a removal) only with its parsed form (ipc::msg::
        // ChangeEvent, RemovedEvent). A removal has no state: --state leaves it out.
        const auto wanted = [&](const ipc::StreamEvent& e) {
          if (e.removed) {
            return !options.state && (!options.since_ms || e.removed->at >= *options.since_ms);
          }
          if (options.removed_only) {
            return false;
          }
          if (!e.change) return false;
          if (options.state && e.change->to != *options.state) return false;
          return !options.since_ms || e.change->at >= *options.since_ms;
        };
        if (!wanted(event)) break;
        if (!summarise) {
          if (g.json) {
            io.out << json_text(event.frame, -1) << std::endl;
          } else {
            io.out << change_line(shown_change(event)) << std::endl;
          }
          if (options.count && ++shown >= *options.count) return kOk;
          break;
        }
        // A terminal: gather what arrives with this change, then one line each or a summary.
        std::vector<ShownChange> burst{shown_change(event)};
        const auto window_end = std::chrono::steady_clock::now() + kBurstWindow;
        while (
            std::chrono::steady_clock::now() < window_end &&
            (!options.count || shown + static_cast<std::int64_t>(burst.size()) < *options.count)) {
          ipc::StreamEvent more = stream.next(kBurstPause, never.token());
          if (more.kind == Kind::kHeartbeat) continue;
          if (more.kind != Kind::kChange && more.kind != Kind::kRemoved) {
            if (more.kind != Kind::kNothing) held = std::move(more);
            break;
          }
          if (!wanted(more)) continue;
          // Together means made together, not read together: a replay delivers the history at
          // once, and two imports minutes apart are two bursts (black-box round 8).
          ShownChange next = shown_change(more);
          // The pause that ends a burst is measured the same way, so a live watch and its
          // replay group (and stamp) the same changes together.
          if (next.at - burst.front().at > kBurstWindow.count() ||
              burst.front().at - next.at > kBurstWindow.count() ||
              next.at - burst.back().at > kBurstPause.count()) {
            held = std::move(more);
            break;
          }
          burst.push_back(std::move(next));
        }
        if (burst.size() >= kBurst) {
          print_burst(burst, io.out);
        } else {
          for (const auto& change : burst) io.out << change_line(change) << "\n";
          io.out << std::flush;
        }
        shown += static_cast<std::int64_t>(burst.size());
        if (options.count && shown >= *options.count) return kOk;
        break;
      }
    }
  }
}

}  // namespace hangar::cli
