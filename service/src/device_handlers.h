// What the device queue's handlers share (device_handlers.cpp: list and show; import_handler.cpp;
// queue_handlers.cpp: deliver, remove, retry, deregister).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "handlers.h"
#include "hangar/ipc/messages/device.h"
#include "hangar/store/store.h"

namespace hangar::service::device_handlers {

core::Error invalid(std::string message);
// The required "serial" argument of `command`.
core::Result<std::string> serial_argument(std::string_view command, const ipc::Json& args);
// A store row as `list`, `show` and `deliver` describe it (with the hash when the row has it).
ipc::msg::Device device_message(const store::DeviceRow& row);

void add_import_binding(std::vector<ipc::Binding>& bindings, ServiceContext& context);
void add_queue_bindings(std::vector<ipc::Binding>& bindings, ServiceContext& context);

}  // namespace hangar::service::device_handlers
