// The body of POST .../importedWindowsAutopilotDeviceIdentities/import, checked like Graph's OData
// reader checks it: shape, property names and types, @odata.type, and Edm.Binary base64.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hangar/cloudsim/tenant.h"
#include "hangar/core/result.h"

namespace hangar::cloudsim {

// The rows to import, or an Error with code "BadRequest" and Graph's wording.
core::Result<std::vector<ImportRow>> parse_import_body(const std::string& body,
                                                       std::int64_t max_rows);

}  // namespace hangar::cloudsim
