// The service's command handlers, bound to the IPC command table.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "hangar/core/clock.h"
#include "hangar/ipc/dispatcher.h"
#include "hangar/service/engine.h"
#include "hangar/service/events.h"
#include "hangar/store/store.h"

namespace hangar::service {
class CredentialManager;
}

namespace hangar::service {

struct ServiceContext {
  store::Store& store;
  const core::Clock& clock;
  std::chrono::steady_clock::time_point started;
  std::string endpoint;
  std::string data_dir;
  Engine* engine = nullptr;  // null in tests that exercise the queue without a cloud
  // The cloud credentials (config, set-credentials, clear-credentials); null in tests without a
  // cloud, where those commands answer "unavailable".
  CredentialManager* credentials = nullptr;
  // The state-change feed behind `subscribe`; null in tests that do not stream.
  EventFeed* feed = nullptr;
};

std::vector<ipc::Binding> make_bindings(ServiceContext& context);
// The device queue commands (device_handlers.cpp); make_bindings() calls it.
void add_device_bindings(std::vector<ipc::Binding>& bindings, ServiceContext& context);
// The cloud credential commands (credential_handlers.cpp); make_bindings() calls it.
void add_credential_bindings(std::vector<ipc::Binding>& bindings, ServiceContext& context);

}  // namespace hangar::service
