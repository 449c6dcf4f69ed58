// Health icons drawn at run time (see icons.h).
#include "icons.h"

#include <vector>

namespace hangar::tray {

COLORREF health_colour(Health health) {
  switch (health) {
    case Health::kOk:
      return RGB(0x00, 0xB0, 0x50);  // green
    case Health::kFailures:
      return RGB(0xE0, 0x20, 0x30);  // red
    case Health::kPaused:
      return RGB(0xF0, 0xA0, 0x00);  // amber
    case Health::kOffline:
      return RGB(0x70, 0x70, 0x90);  // slate: unlike the neutral greys of the taskbar
    case Health::kAttention:
      return RGB(0xB0, 0x30, 0xC0);  // magenta: the service needs someone to look
  }
  return RGB(0, 0, 0);
}

HICON make_health_icon(Health health) {
  const int size = GetSystemMetrics(SM_CXSMICON) > 0 ? GetSystemMetrics(SM_CXSMICON) : 16;
  const COLORREF fill = health_colour(health);
  // 32-bit BGRA pixels, top-down; a one-pixel dark border so the square reads on any taskbar.
  std::vector<DWORD> pixels(static_cast<std::size_t>(size) * static_cast<std::size_t>(size));
  const DWORD body = 0xFF000000u | (static_cast<DWORD>(GetRValue(fill)) << 16) |
                     (static_cast<DWORD>(GetGValue(fill)) << 8) | GetBValue(fill);
  const DWORD border = 0xFF202020u;
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const bool edge = x == 0 || y == 0 || x == size - 1 || y == size - 1;
      pixels[static_cast<std::size_t>(y * size + x)] = edge ? border : body;
    }
  }
  BITMAPINFO info{};
  info.bmiHeader.biSize = sizeof(BITMAPINFOHEADER);
  info.bmiHeader.biWidth = size;
  info.bmiHeader.biHeight = -size;  // top-down
  info.bmiHeader.biPlanes = 1;
  info.bmiHeader.biBitCount = 32;
  info.bmiHeader.biCompression = BI_RGB;
  HDC screen = GetDC(nullptr);
  void* bits = nullptr;
  HBITMAP colour = CreateDIBSection(screen, &info, DIB_RGB_COLORS, &bits, nullptr, 0);
  ReleaseDC(nullptr, screen);
  if (!colour || !bits) return nullptr;
  std::copy(pixels.begin(), pixels.end(), static_cast<DWORD*>(bits));
  // An all-zero AND mask: every pixel opaque.
  std::vector<BYTE> mask_bits(static_cast<std::size_t>(((size + 15) / 16) * 2 * size), 0);
  HBITMAP mask = CreateBitmap(size, size, 1, 1, mask_bits.data());
  ICONINFO icon_info{};
  icon_info.fIcon = TRUE;
  icon_info.hbmColor = colour;
  icon_info.hbmMask = mask;
  HICON icon = CreateIconIndirect(&icon_info);
  DeleteObject(colour);
  DeleteObject(mask);
  return icon;
}

}  // namespace hangar::tray
