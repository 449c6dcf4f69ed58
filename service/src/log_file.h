// The sink that writes hangard's log file, rotated by size. One definition per platform: on POSIX
// every file is opened with O_NOFOLLOW (a link planted as logs/hangard.log is refused, never
// followed into another file); on Windows spdlog's own rotating sink (the data folder's DACL
// keeps users out, see trust.h).
#pragma once

#include <spdlog/sinks/sink.h>

#include <cstddef>
#include <filesystem>
#include <memory>

#include "hangar/core/result.h"

namespace hangar::service {

// `path` is the current file; older ones are path.1 ... path.<max_files> in spdlog's naming
// (hangard.1.log, ...). Fails when the file cannot be opened (a link, another user's file).
core::Result<std::shared_ptr<spdlog::sinks::sink>> make_log_file_sink(
    const std::filesystem::path& path, std::size_t max_size, std::size_t max_files);

}  // namespace hangar::service
