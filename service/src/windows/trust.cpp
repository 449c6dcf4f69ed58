// Windows: the data folder's security is set by `hangard setup` (see trust.h and setup.cpp).
#include "../trust.h"

namespace hangar::service {

core::Status check_trusted_path(const std::filesystem::path&, std::string_view) { return {}; }

core::Status check_trusted_directory(const std::filesystem::path&, std::string_view) { return {}; }

}  // namespace hangar::service
