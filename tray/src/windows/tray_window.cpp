// The notification-area icon, balloons and menu (see tray_window.h).
#include "tray_window.h"

#include <shellapi.h>
#include <spdlog/spdlog.h>

#include <cwchar>
#include <filesystem>

#include "hangar/core/win_text.h"
#include "icons.h"

namespace hangar::tray {

namespace {

constexpr UINT kIconId = 1;
constexpr UINT kMsgTray = WM_APP + 1;    // mouse events on the icon
constexpr UINT kMsgHealth = WM_APP + 2;  // from the monitor thread
constexpr UINT kMsgNotify = WM_APP + 3;  // from the monitor thread
enum MenuId : UINT { kOpenStatus = 1, kTogglePause, kOpenLogs, kQuit };
constexpr wchar_t kClassName[] = L"HangarTrayWindow";

// Copies UTF-8 text into a fixed WCHAR field, truncated to fit and terminated.
template <std::size_t N>
void copy_text(WCHAR (&field)[N], const std::string& text) {
  const std::wstring wide = core::win::to_wide(text);
  const std::size_t n = std::min(wide.size(), N - 1);
  std::wmemcpy(field, wide.data(), n);
  field[n] = L'\0';
}

NOTIFYICONDATAW icon_data(HWND hwnd) {
  NOTIFYICONDATAW data{};
  data.cbSize = sizeof data;
  data.hWnd = hwnd;
  data.uID = kIconId;
  return data;
}

}  // namespace

TrayWindow::~TrayWindow() {
  if (hwnd_ && !destroyed_) DestroyWindow(hwnd_);
  if (icon_) DestroyIcon(icon_);
}

core::Status TrayWindow::create(HINSTANCE instance) {
  WNDCLASSEXW window_class{};
  window_class.cbSize = sizeof window_class;
  window_class.lpfnWndProc = &TrayWindow::window_proc;
  window_class.hInstance = instance;
  window_class.lpszClassName = kClassName;
  if (!RegisterClassExW(&window_class)) {
    return core::make_error("tray", "RegisterClassExW: " + core::win::error_text(GetLastError()));
  }
  // A hidden top-level window, not a message-only one: only top-level windows receive the
  // "TaskbarCreated" broadcast that says the icon must be added again (Explorer restarted).
  if (!CreateWindowExW(0, kClassName, L"Hangar", WS_OVERLAPPED, 0, 0, 0, 0, nullptr, nullptr,
                       instance, this)) {
    return core::make_error("tray", "CreateWindowExW: " + core::win::error_text(GetLastError()));
  }
  taskbar_created_ = RegisterWindowMessageW(L"TaskbarCreated");
  icon_ = make_health_icon(health_);
  if (!add_icon()) return core::make_error("tray", "Shell_NotifyIconW(NIM_ADD) failed");
  return {};
}

void TrayWindow::show_health(Health health, const std::string& tooltip) {
  {
    std::lock_guard lock(mutex_);
    pending_health_ = {health, tooltip};
  }
  PostMessageW(hwnd_, kMsgHealth, 0, 0);
}

void TrayWindow::notify(const Notification& notification) {
  {
    std::lock_guard lock(mutex_);
    pending_notifications_.push_back(notification);
  }
  PostMessageW(hwnd_, kMsgNotify, 0, 0);
}

LRESULT CALLBACK TrayWindow::window_proc(HWND hwnd, UINT message, WPARAM wparam, LPARAM lparam) {
  if (message == WM_NCCREATE) {
    const auto* create = reinterpret_cast<const CREATESTRUCTW*>(lparam);
    SetWindowLongPtrW(hwnd, GWLP_USERDATA, reinterpret_cast<LONG_PTR>(create->lpCreateParams));
    // Set here, before CreateWindowExW returns, and never changed: the monitor thread reads it.
    static_cast<TrayWindow*>(create->lpCreateParams)->hwnd_ = hwnd;
  }
  auto* self = reinterpret_cast<TrayWindow*>(GetWindowLongPtrW(hwnd, GWLP_USERDATA));
  if (!self) return DefWindowProcW(hwnd, message, wparam, lparam);
  return self->handle(message, wparam, lparam);
}

LRESULT TrayWindow::handle(UINT message, WPARAM wparam, LPARAM lparam) {
  switch (message) {
    case kMsgHealth:
      apply_health();
      return 0;
    case kMsgNotify:
      show_balloons();
      return 0;
    case kMsgTray:
      // Classic callback (no NOTIFYICON_VERSION_4): lparam is the mouse message.
      if (LOWORD(lparam) == WM_RBUTTONUP || LOWORD(lparam) == WM_CONTEXTMENU) show_menu();
      if (LOWORD(lparam) == WM_LBUTTONDBLCLK) open_status();
      return 0;
    case WM_COMMAND:
      on_command(LOWORD(wparam));
      return 0;
    case WM_DESTROY: {
      NOTIFYICONDATAW data = icon_data(hwnd_);
      Shell_NotifyIconW(NIM_DELETE, &data);
      destroyed_ = true;
      PostQuitMessage(0);
      return 0;
    }
    default:
      if (message == taskbar_created_ && taskbar_created_ != 0) {
        add_icon();
        return 0;
      }
      return DefWindowProcW(hwnd_, message, wparam, lparam);
  }
}

bool TrayWindow::add_icon() {
  NOTIFYICONDATAW data = icon_data(hwnd_);
  data.uFlags = NIF_ICON | NIF_TIP | NIF_MESSAGE;
  data.uCallbackMessage = kMsgTray;
  data.hIcon = icon_;
  copy_text(data.szTip, tooltip_);
  return Shell_NotifyIconW(NIM_ADD, &data) != FALSE;
}

void TrayWindow::apply_health() {
  std::optional<std::pair<Health, std::string>> update;
  {
    std::lock_guard lock(mutex_);
    update.swap(pending_health_);
  }
  if (!update) return;
  NOTIFYICONDATAW data = icon_data(hwnd_);
  data.uFlags = NIF_TIP;
  if (update->first != health_ || !icon_) {
    if (HICON fresh = make_health_icon(update->first)) {
      if (icon_) DestroyIcon(icon_);
      icon_ = fresh;
    }
    data.uFlags |= NIF_ICON;
  }
  health_ = update->first;
  tooltip_ = update->second;
  data.hIcon = icon_;
  copy_text(data.szTip, tooltip_);
  if (!Shell_NotifyIconW(NIM_MODIFY, &data)) spdlog::warn("Shell_NotifyIconW(NIM_MODIFY) failed");
}

void TrayWindow::show_balloons() {
  std::deque<Notification> due;
  {
    std::lock_guard lock(mutex_);
    due.swap(pending_notifications_);
  }
  for (const auto& n : due) {
    NOTIFYICONDATAW data = icon_data(hwnd_);
    data.uFlags = NIF_INFO;
    data.dwInfoFlags = n.kind == NotificationKind::kFailed ? NIIF_ERROR : NIIF_INFO;
    copy_text(data.szInfoTitle, n.title);
    copy_text(data.szInfo, n.text);
    if (Shell_NotifyIconW(NIM_MODIFY, &data)) {
      spdlog::info("balloon shown: {}", n.text);
    } else {
      spdlog::warn("balloon not shown (Shell_NotifyIconW failed): {}", n.text);
    }
  }
}

void TrayWindow::show_menu() {
  const std::optional<StatusSnapshot> status = monitor_ ? monitor_->last_status() : std::nullopt;
  HMENU menu = CreatePopupMenu();
  AppendMenuW(menu, MF_STRING, kOpenStatus, L"Open status");
  AppendMenuW(menu, MF_STRING | (status ? 0u : MF_GRAYED), kTogglePause,
              status && status->paused ? L"Resume uploads" : L"Pause uploads");
  AppendMenuW(menu, MF_STRING | (status && !status->data_dir.empty() ? 0u : MF_GRAYED), kOpenLogs,
              L"Open log folder");
  AppendMenuW(menu, MF_SEPARATOR, 0, nullptr);
  AppendMenuW(menu, MF_STRING, kQuit, L"Quit");
  SetMenuDefaultItem(menu, kOpenStatus, FALSE);
  POINT at{};
  GetCursorPos(&at);
  // Without the foreground the menu would not close when the user clicks elsewhere.
  SetForegroundWindow(hwnd_);
  TrackPopupMenu(menu, TPM_RIGHTBUTTON | TPM_BOTTOMALIGN, at.x, at.y, 0, hwnd_, nullptr);
  PostMessageW(hwnd_, WM_NULL, 0, 0);
  DestroyMenu(menu);
}

void TrayWindow::on_command(UINT id) {
  switch (id) {
    case kOpenStatus:
      open_status();
      break;
    case kTogglePause:
      toggle_pause();
      break;
    case kOpenLogs:
      open_log_folder();
      break;
    case kQuit:
      DestroyWindow(hwnd_);
      break;
    default:
      break;
  }
}

void TrayWindow::open_status() {
  if (!monitor_) return;
  auto report = monitor_->status_report();
  message_box(report ? *report : "The Hangar service is not reachable: " + report.error().message,
              report ? MB_ICONINFORMATION : MB_ICONWARNING);
}

void TrayWindow::toggle_pause() {
  const auto status = monitor_ ? monitor_->last_status() : std::nullopt;
  if (!status) return;
  // The service checks the caller: a user outside the operators group gets permission_denied,
  // whose message says what to do.
  auto reply = monitor_->command(status->paused ? "resume" : "pause");
  if (!reply) message_box(reply.error().message, MB_ICONWARNING);
}

void TrayWindow::open_log_folder() {
  const auto status = monitor_ ? monitor_->last_status() : std::nullopt;
  if (!status || status->data_dir.empty()) return;
  std::filesystem::path folder = std::filesystem::path(core::win::to_wide(status->data_dir));
  std::error_code ec;
  if (std::filesystem::is_directory(folder / "logs", ec)) folder /= "logs";
  const auto result = reinterpret_cast<INT_PTR>(
      ShellExecuteW(hwnd_, L"open", folder.c_str(), nullptr, nullptr, SW_SHOWNORMAL));
  if (result <= 32) {
    message_box("Cannot open " + core::win::to_utf8(folder.wstring()) + " (error " +
                    std::to_string(result) + ")",
                MB_ICONWARNING);
  }
}

void TrayWindow::message_box(const std::string& text, UINT flags) const {
  MessageBoxW(hwnd_, core::win::to_wide(text).c_str(), L"Hangar", MB_OK | flags);
}

}  // namespace hangar::tray
