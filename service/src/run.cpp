// The service core shared by every host: start-up in order, serve until stopped, shut down cleanly.
#include "hangar/service/run.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <mutex>
#include <optional>

#include <spdlog/spdlog.h>

#include "credentials.h"
#include "event_report.h"
#include "handlers.h"
#include "hangar/cloud/graph_client.h"
#include "hangar/core/clock.h"
#include "hangar/core/memory.h"
#include "hangar/core/stop.h"
#include "hangar/core/version.h"
#include "hangar/ipc/server.h"
#include "hangar/service/engine.h"
#include "hangar/service/events.h"
#include "hangar/service/instance_lock.h"
#include "hangar/store/store.h"
#include "logging.h"
#include "trust.h"

#ifndef _WIN32
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace hangar::service {

namespace {

core::Status prepare_data_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  [[maybe_unused]] const bool created = std::filesystem::create_directories(dir, ec);
  if (ec) {
    return core::make_error("io_error",
                            "cannot create data directory " + dir.string() + ": " + ec.message());
  }
#ifndef _WIN32
  // The queue holds hardware hashes: keep the directory private to the service and its group.
  // Only a directory the service owns is tightened; another's is refused below, untouched. One
  // that already existed and others could write to is refused too, not quietly tightened: what
  // they may have put there is not known (black-box round 6).
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0 && st.st_uid == ::geteuid() && (st.st_mode & 07777) != 0750 &&
      (created || (st.st_mode & 022) == 0)) {
    ::chmod(dir.c_str(), 0750);
  }
#endif
  // Another user could have planted hangar.json, credentials or a link in a directory they own
  // or may write to (see trust.h).
  return check_trusted_directory(dir, "data directory");
}

// Waits for `stop`, calling `tick` (if any) every few seconds meanwhile.
void wait_for_stop(const core::StopToken& stop, const std::function<void()>& tick) {
  core::Wakeup wakeup;  // nobody notifies it: only the stop or the tick's interval ends a wait
  while (wakeup.wait_for(stop, std::chrono::seconds(5)) != core::Wakeup::Reason::kStopped) {
    if (tick) tick();
  }
}

}  // namespace

int run(const Options& options, const core::StopToken& stop, const std::function<void()>& on_ready,
        EventSink* event_log) {
  core::tune_allocator_for_service();
  if (auto dir = prepare_data_dir(options.data_dir); !dir) {
    // No log file yet: the host prints this.
    spdlog::error("{}", dir.error().message);
    return 1;
  }
  if (auto log = setup_logging(options.data_dir, options.log_level, options.console_log); !log) {
    spdlog::error("{}", log.error().message);
    return 1;
  }
  auto lock = InstanceLock::acquire(options.data_dir);
  if (!lock) {
    spdlog::error("{}", lock.error().message);
    return 3;
  }
  spdlog::info("hangard {} ({}) starting: data directory {}, endpoint {}", core::kVersion,
               core::kPlatform, options.data_dir.string(), options.endpoint);

  auto store = store::Store::open(options.data_dir / "hangar.db", store::StoreOptions{});
  if (!store) {
    spdlog::error("cannot open the queue: {}", store.error().message);
    return 1;
  }

  core::SystemClock clock;
  // The cloud: credentials from set-credentials, hangar.json and HANGAR_CLIENT_SECRET, or the
  // simulated cloud with its test credentials (credentials.h). Missing or unreadable credentials
  // do not stop the service: `hangar config set-credentials` can supply them while it runs.
  auto transport = cloud::make_cpprest_transport();
  CredentialSettings cloud_settings;
  cloud_settings.data_dir = options.data_dir;
  cloud_settings.config_file = options.config_file;
  cloud_settings.cloud_url = options.cloud_url;
  cloud_settings.authority_url = options.authority_url;
  cloud_settings.graph_url = options.graph_url;
  cloud_settings.graph_scope = options.graph_scope;
  cloud_settings.config_tenant_id = options.tenant_id;
  cloud_settings.config_client_id = options.client_id;
  cloud_settings.env_secret = options.client_secret;
  CredentialManager credentials(std::move(cloud_settings), *transport, clock);
  if (auto urls = credentials.check_urls(); !urls) {
    spdlog::error("cloud configuration: {}", urls.error().message);
    return 2;
  }
  EngineConfig engine_config;
  engine_config.poll_interval =
      std::chrono::milliseconds(static_cast<std::int64_t>(options.poll_interval_seconds * 1000));
  engine_config.batch_size = static_cast<std::size_t>(options.batch_size);
  engine_config.activity_interval = std::chrono::milliseconds(
      static_cast<std::int64_t>(options.activity_interval_hours * 3'600'000));
  engine_config.inactive_after = std::chrono::milliseconds(
      static_cast<std::int64_t>(options.inactive_after_days * 86'400'000));
  engine_config.required_licenses = options.required_licenses;
  engine_config.pending_threshold = std::chrono::milliseconds(
      static_cast<std::int64_t>(options.pending_warning_minutes * 60'000));
  engine_config.pending_limit =
      std::chrono::milliseconds(static_cast<std::int64_t>(options.pending_limit_hours * 3'600'000));
  engine_config.profile_groups = options.profile_groups;
  engine_config.tag_profiles = options.tag_profiles;
  engine_config.track_untagged = options.track_untagged;
  engine_config.group_sweep_interval = std::chrono::milliseconds(
      static_cast<std::int64_t>(options.group_sweep_interval_hours * 3'600'000));
  Engine engine(**store, EngineClouds::from([&credentials] { return credentials.client(); }), clock,
                engine_config);
  // A request form the cloud keeps refusing goes to the Event Log too (Windows service host).
  engine.set_event_sink(event_log);

  // The Event Log (the Windows service host passes one): devices Ready for user and registration
  // failures, rate-limited. Declared before the feed, which calls it until it stops.
  std::optional<StateChangeReporter> reporter;
  if (event_log != nullptr) reporter.emplace(*event_log);

  EventFeedOptions feed_options;
  feed_options.subscriber_capacity = static_cast<std::size_t>(options.event_queue_size);
  ipc::ServerOptions server_options;
  server_options.max_connections = static_cast<std::size_t>(options.max_connections);
  server_options.reserved_connections = static_cast<std::size_t>(options.reserved_connections);
  server_options.max_connections_per_user =
      static_cast<std::size_t>(options.max_connections_per_user);
  server_options.timeouts.idle =
      std::chrono::milliseconds(static_cast<std::int64_t>(options.idle_timeout_seconds * 1000));
  server_options.request_budget = static_cast<std::size_t>(options.request_memory_mib) << 20;
  // Subscribers hold their connections: at most half of the server's, so commands always get one.
  feed_options.max_subscribers = std::min(static_cast<std::size_t>(options.max_subscribers),
                                          server_options.max_connections / 2);
  feed_options.max_subscribers_per_user =
      static_cast<std::size_t>(options.max_subscribers_per_user);
  EventFeed feed(**store, feed_options);
  if (reporter) {
    feed.add_listener([&reporter](const StateChange& change) { reporter->on_change(change); });
  }
  if (auto started = feed.start(); !started) {
    spdlog::error("cannot read the state history: {}", started.error().message);
    return 1;
  }

  ServiceContext context{
      **store,      clock, clock.steady_now(), options.endpoint, options.data_dir.string(), &engine,
      &credentials, &feed};
  auto dispatcher = ipc::Dispatcher::create(make_bindings(context));
  if (!dispatcher) {
    spdlog::critical("command table: {}", dispatcher.error().message);
    return 1;
  }

  auto listener = ipc::listen(options.endpoint, ipc::ListenOptions{options.operators_group});
  if (!listener) {
    spdlog::error("cannot listen on {}: {}", options.endpoint, listener.error().message);
    if (listener.error().code == "endpoint_in_use") return 3;
    return listener.error().code == "config_error" ? 2 : 1;  // e.g. a missing operators group
  }
  ipc::Server server(std::move(listener).value(), *dispatcher, server_options);
  server.start();
  spdlog::info("listening on {}", options.endpoint);
  core::StopThread engine_thread([&engine](const core::StopToken& token) { engine.run(token); });
  if (on_ready) on_ready();

  std::function<void()> flush_event_log;
  if (reporter) flush_event_log = [&reporter, &clock] { reporter->flush(clock.now_ms()); };
  wait_for_stop(stop, flush_event_log);
  spdlog::info("stop requested; shutting down");
  transport->cancel_all();  // a cloud request under way (a silent or trickling peer) ends now
  // Operator commands still waiting are answered (in doubt when their write may have been done)
  // before the server closes their connections, which waits for those replies to be written.
  engine.stop_operator_jobs(std::chrono::seconds(3));
  feed.stop();  // ends every subscription, so their connections close promptly
  // Summaries of devices held back by the rate limit are written now, not lost.
  if (reporter) reporter->flush(std::numeric_limits<std::int64_t>::max());
  server.stop();
  engine_thread.stop_and_join();
  spdlog::info("hangard stopped cleanly");
  spdlog::default_logger()->flush();
  return 0;
}

}  // namespace hangar::service
