// The tray's connection loop (see monitor.h).
#include "monitor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "hangar/core/terminal_safe.h"
#include "hangar/ipc/client.h"

namespace hangar::tray {

namespace {

using namespace std::chrono_literals;

// Bounds every wait so a stop request is seen promptly.
constexpr auto kSlice = 500ms;
// Status is asked again this long after a change (changes come in bursts) ...
constexpr auto kStaleRefresh = 1s;
// ... and at least this often, for the cloud's online/paused flags, which send no events.
constexpr auto kPeriodicRefresh = 10s;
constexpr auto kConnectTimeout = 5s;
constexpr auto kCallTimeout = 10s;

const char* kind_name(NotificationKind kind) {
  return kind == NotificationKind::kReady ? "ready" : "failed";
}

}  // namespace

void Monitor::run(const core::StopToken& stop) {
  spdlog::info("hangar-tray: watching {}", endpoint_);
  ipc::EventStreamOptions options;
  options.connect_timeout = kConnectTimeout;
  options.subscribe_timeout = kCallTimeout;
  ipc::EventStream stream(endpoint_, options, clock_);
  while (!stop.stop_requested()) {
    try {
      step(stream, stop);
    } catch (const std::exception& e) {
      // A reply of an unexpected shape, or memory: log it, never end the process.
      spdlog::error("unexpected failure: {}", e.what());
    }
  }
  publish();  // notifications already due are still shown
}

void Monitor::step(ipc::EventStream& stream, const core::StopToken& stop) {
  const auto now = clock_.steady_now();
  bool connected = false;
  bool stale = false;
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(kSlice);
  {
    std::lock_guard lock(mutex_);
    connected = model_.connected();
    stale = model_.status_stale();
    if (auto deadline = model_.next_deadline()) {
      const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - now);
      wait = std::clamp(until, std::chrono::milliseconds(10), wait);
    }
  }
  if (connected &&
      (refresh_requested_.exchange(false) || (stale && now - status_at_ >= kStaleRefresh) ||
       now - status_at_ >= kPeriodicRefresh)) {
    refresh_status();
  }
  publish();
  const ipc::StreamEvent event = stream.next(wait, stop);
  attempted_ = true;
  {
    std::lock_guard lock(mutex_);
    model_.on_stream(event);
  }
  using Kind = ipc::StreamEvent::Kind;
  if (event.kind == Kind::kSubscribed) {
    spdlog::info("connected to {}: subscribed since {} (service at seq {}){}", endpoint_,
                 event.since ? std::to_string(*event.since) : std::string("now"), event.seq,
                 event.history_reset ? "; its history is new: taking it from the start" : "");
    refresh_status();
  } else if (event.kind == Kind::kGap) {
    spdlog::warn("the service dropped {} events; counts refreshed from status", event.missed);
  } else if (event.kind == Kind::kDisconnected && !stop.stop_requested()) {
    spdlog::warn("offline: {}; trying again in {} ms", event.reason, event.retry_in.count());
    publish();
  }
}

void Monitor::refresh_status() {
  status_at_ = clock_.steady_now();
  auto client = ipc::Client::connect(endpoint_, kConnectTimeout);
  auto reply = client ? client->call("status", Json::object(), kCallTimeout)
                      : core::Result<Json>(client.error());
  if (!reply) {
    spdlog::warn("status: {}", reply.error().message);
    return;
  }
  auto status = parse_status(*reply);
  if (!status) {
    spdlog::warn("status: {}", status.error().message);
    return;
  }
  std::lock_guard lock(mutex_);
  model_.on_status(std::move(status).value());
}

void Monitor::publish() {
  std::vector<Notification> due;
  std::pair<Health, std::string> health;
  {
    std::lock_guard lock(mutex_);
    due = model_.take_notifications();
    health = {model_.health(), model_.tooltip()};
  }
  if (shown_ != health) {
    view_.show_health(health.first, health.second);
    // Logged (and so taken as shown) once a connection was tried: the start's "offline" is then
    // a finding, not the model's initial value.
    if (attempted_) {
      // The tooltip's lines, on one log line.
      std::string text =
          core::terminal_safe(health.second, core::CarriageReturns::kOnlyBeforeLineFeed);
      for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at)) {
        text.replace(at, 1, "; ");
      }
      spdlog::info("health: {} ({})", health_name(health.first), text);
      shown_ = health;
    }
  }
  for (const auto& n : due) {
    spdlog::info("notification ({}, {} device(s)): {}", kind_name(n.kind), n.serials.size(),
                 n.text);
    view_.notify(n);
  }
}

core::Result<Json> Monitor::command(const std::string& name) {
  auto client = ipc::Client::connect(endpoint_, kConnectTimeout);
  if (!client) return std::move(client).error();
  auto reply = client->call(name, Json::object(), kCallTimeout);
  spdlog::info("{}: {}", name, reply ? reply->dump() : reply.error().message);
  refresh_requested_ = true;
  return reply;
}

core::Result<std::string> Monitor::status_report() const {
  auto client = ipc::Client::connect(endpoint_, kConnectTimeout);
  if (!client) return std::move(client).error();
  auto reply = client->call("status", Json::object(), kCallTimeout);
  if (!reply) return std::move(reply).error();
  auto status = parse_status(*reply);
  if (!status) return std::move(status).error();
  return status_text(*status);
}

std::optional<StatusSnapshot> Monitor::last_status() const {
  std::lock_guard lock(mutex_);
  return model_.last_status();
}

}  // namespace hangar::tray
