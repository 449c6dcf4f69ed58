// The tray's connection loop (see monitor.h).
#include "monitor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

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
  while (!stop.stop_requested()) {
    std::string why;
    try {
      why = session(stop);
    } catch (const std::exception& e) {
      // A reply of an unexpected shape, or memory: drop the connection, never the process.
      why = std::string("unexpected failure: ") + e.what();
    }
    if (stop.stop_requested()) break;
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(mutex_);
      delay = model_.on_disconnected(why);
    }
    spdlog::warn("offline: {}; trying again in {} ms", why, delay.count());
    publish();
    wait_offline(stop, delay);
  }
  publish();  // notifications already due are still shown
}

std::string Monitor::session(const core::StopToken& stop) {
  auto events = ipc::Client::connect(endpoint_, kConnectTimeout);
  if (!events) return events.error().message;
  std::optional<std::int64_t> since;
  {
    std::lock_guard lock(mutex_);
    since = model_.resume_seq();
  }
  auto ack = events->subscribe(since, std::nullopt, kCallTimeout);
  if (!ack) return "subscribe: " + ack.error().message;
  {
    std::lock_guard lock(mutex_);
    model_.on_subscribed(*ack);
  }
  spdlog::info("connected to {}: subscribed since {} (service at seq {})", endpoint_,
               since ? std::to_string(*since) : std::string("now"),
               ack->contains("seq") ? (*ack)["seq"].dump() : std::string("?"));
  refresh_status();
  while (!stop.stop_requested()) {
    const auto now = clock_.steady_now();
    bool stale = false;
    {
      std::lock_guard lock(mutex_);
      stale = model_.status_stale();
    }
    if (refresh_requested_.exchange(false) || (stale && now - status_at_ >= kStaleRefresh) ||
        now - status_at_ >= kPeriodicRefresh) {
      refresh_status();
    }
    publish();
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(kSlice);
    {
      std::lock_guard lock(mutex_);
      if (auto deadline = model_.next_deadline()) {
        const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - now);
        wait = std::clamp(until, std::chrono::milliseconds(10), wait);
      }
    }
    auto event = events->next_event(wait);
    std::lock_guard lock(mutex_);
    if (event) {
      model_.on_event(*event);
      if (event->is_object() && event->find("type") != event->end() && (*event)["type"] == "gap") {
        spdlog::warn("the service dropped events ({}); counts refreshed from status",
                     (*event)["missed"].dump());
      }
    } else if (event.error().code != ipc::errc::kTimeout) {
      return event.error().message;
    } else if (model_.silent_too_long()) {
      return "no event or heartbeat from the service for three heartbeat intervals";
    }
  }
  return "stopping";
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
    spdlog::info("health: {} ({})", health_name(health.first), health.second);
    view_.show_health(health.first, health.second);
    shown_ = health;
  }
  for (const auto& n : due) {
    spdlog::info("notification ({}, {} devices): {}", kind_name(n.kind), n.serials.size(), n.text);
    view_.notify(n);
  }
}

void Monitor::wait_offline(const core::StopToken& stop, std::chrono::milliseconds delay) {
  const auto until = clock_.steady_now() + delay;
  while (!stop.stop_requested() && clock_.steady_now() < until) {
    // Pending notifications keep their schedule while the service is away.
    offline_wait_.wait_for(
        stop, std::min<std::chrono::steady_clock::duration>(kSlice, until - clock_.steady_now()));
    publish();
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
