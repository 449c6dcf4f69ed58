// The one place the named-pipe transport includes <windows.h>, with the macros it needs first.
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX  // keep std::min/std::max usable
#endif

#include <windows.h>
