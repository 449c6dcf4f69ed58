// The tray icon per health, drawn at run time: a filled square in one distinctive colour each
// (the Wine screenshot test finds the icon by these colours: keep tests/windows/tray_under_wine.sh
// in step).
#pragma once

#include <windows.h>

#include "hangar/tray/status.h"

namespace hangar::tray {

COLORREF health_colour(Health health);
// A new icon of the small-icon size; the caller destroys it (DestroyIcon).
HICON make_health_icon(Health health);

}  // namespace hangar::tray
