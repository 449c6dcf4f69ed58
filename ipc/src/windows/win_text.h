// UTF-8 <-> UTF-16 conversion and Win32 error text, private to the named-pipe transport.
#pragma once

#include "win32.h"

#include <string>
#include <string_view>

#include "hangar/core/win_text.h"
#include "unique_handle.h"

namespace hangar::ipc::win {

using core::win::error_text;
using core::win::to_utf8;
using core::win::to_wide;

}  // namespace hangar::ipc::win
