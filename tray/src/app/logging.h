// hangar-tray's log: a file (--log-file), standard error, or nothing.
#pragma once

#include <string>

#include "hangar/core/result.h"

namespace hangar::tray {

// Sets spdlog's default logger: appends to `file` when given, else to standard error when
// `to_stderr`, else drops messages. Every line is flushed (the tests read the file while we run).
core::Status setup_logging(const std::string& file, bool to_stderr);

}  // namespace hangar::tray
