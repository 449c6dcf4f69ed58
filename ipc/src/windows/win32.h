// The one place the named-pipe transport includes <windows.h> (WIN32_LEAN_AND_MEAN and NOMINMAX
// come from the build: CMakeLists.txt).
#pragma once

#include <windows.h>
