// The notification-area icon, balloons and menu (see tray_window.h).
#include "tray_window.h"

#include <shellapi.h>
#include <spdlog/spdlog.h>

#include <cwchar>
#include <filesystem>
#include <memory>

#include "hangar/core/win_text.h"
#include "icons.h"

namespace hangar::tray {

namespace {

constexpr UINT kIconId = 1;
constexpr UINT kMsgTray = WM_APP + 1;     // mouse events on the icon
constexpr UINT kMsgHealth = WM_APP + 2;   // from the monitor thread
constexpr UINT kMsgNotify = WM_APP + 3;   // from the monitor thread
constexpr UINT kMsgOutcome = WM_APP + 4;  // a menu command's result, from the worker thread
constexpr UINT_PTR kRetryIconTimer = 1;   // while the shell has not accepted the icon
constexpr UINT kRetryIconMs = 2000;
enum MenuId : UINT { kOpenStatus = 1, kTogglePause, kOpenLogs, kQuit };
constexpr wchar_t kClassName[] = L"HangarTrayWindow";

// Copies UTF-8 text into a fixed WCHAR field, truncated to fit and terminated.
template <std::size_t N>
void copy_text(WCHAR (&field)[N], const std::string& text) {
  const std::wstring wide = core::win::to_wide(text);
  std::size_t n = std::min(wide.size(), N - 1);
  // Never end on the first half of a surrogate pair.
  if (n > 0 && n < wide.size() && wide[n - 1] >= 0xD800 && wide[n - 1] <= 0xDBFF) --n;
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
  // At logon the tray can start before the notification area is ready: it refuses the icon, and
  // the tray keeps trying instead of exiting.
  if (!ensure_icon()) {
    spdlog::warn("the notification area refused the icon; trying again every {} ms", kRetryIconMs);
    SetTimer(hwnd_, kRetryIconTimer, kRetryIconMs, nullptr);
  }
  return {};
}

bool TrayWindow::ensure_icon() {
  if (!icon_added_) icon_added_ = add_icon();
  return icon_added_;
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
    case WM_TIMER:
      if (wparam == kRetryIconTimer && ensure_icon()) {
        KillTimer(hwnd_, kRetryIconTimer);
        spdlog::info("icon added");
      }
      return 0;
    case kMsgOutcome: {
      std::unique_ptr<std::pair<std::string, UINT>> outcome(
          reinterpret_cast<std::pair<std::string, UINT>*>(lparam));
      if (outcome) message_box(outcome->first, outcome->second);
      return 0;
    }
    case WM_ENDSESSION:
      // Restart Manager (an MSI upgrade or uninstall) closes running copies this way: leave, so
      // hangar-tray.exe can be replaced without a reboot. Logoff ends the process anyway.
      if (wparam && (lparam & ENDSESSION_CLOSEAPP)) DestroyWindow(hwnd_);
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
        // Explorer restarted: the icon it had is gone.
        icon_added_ = false;
        if (!ensure_icon()) SetTimer(hwnd_, kRetryIconTimer, kRetryIconMs, nullptr);
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
  if (!ensure_icon()) return;  // the retry timer adds it with the health and tooltip set here
  if (!Shell_NotifyIconW(NIM_MODIFY, &data)) {
    // The shell lost the icon without telling us: add it again, as it is now.
    icon_added_ = false;
    if (!ensure_icon()) spdlog::warn("Shell_NotifyIconW(NIM_MODIFY) failed");
  }
}

void TrayWindow::show_balloons() {
  std::deque<Notification> due;
  {
    std::lock_guard lock(mutex_);
    due.swap(pending_notifications_);
  }
  if (due.empty()) return;
  // One icon shows one balloon at a time, and a balloon that has not appeared yet is replaced by
  // the next: notifications due together (ready and failed from the same window) become one.
  std::string title = due.front().title;
  std::string text;
  bool failed = false;
  for (const auto& n : due) {
    text += (text.empty() ? "" : "\n") + n.text;
    failed = failed || n.kind == NotificationKind::kFailed;
  }
  if (due.size() > 1) title = "Hangar";
  NOTIFYICONDATAW data = icon_data(hwnd_);
  data.uFlags = NIF_INFO;
  data.dwInfoFlags = failed ? NIIF_ERROR : NIIF_INFO;
  copy_text(data.szInfoTitle, title);
  copy_text(data.szInfo, text);
  if (ensure_icon() && Shell_NotifyIconW(NIM_MODIFY, &data)) {
    for (const auto& n : due) spdlog::info("balloon shown: {}", n.text);
  } else {
    for (const auto& n : due)
      spdlog::warn("balloon not shown (Shell_NotifyIconW failed): {}", n.text);
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

void TrayWindow::in_background(std::function<Outcome()> task) {
  if (busy_.exchange(true)) return;
  if (worker_.joinable()) worker_.join();  // the previous one has finished (busy_ was false)
  worker_ = std::jthread([this, task = std::move(task)] {
    Outcome outcome = task();
    if (outcome) {
      auto* owned = new std::pair<std::string, UINT>(std::move(*outcome));
      if (!PostMessageW(hwnd_, kMsgOutcome, 0, reinterpret_cast<LPARAM>(owned))) delete owned;
    }
    busy_ = false;
  });
}

void TrayWindow::open_status() {
  if (!monitor_) return;
  in_background([monitor = monitor_]() -> Outcome {
    auto report = monitor->status_report();
    if (report) return std::pair{*report, UINT{MB_ICONINFORMATION}};
    return std::pair{"The Hangar service is not reachable: " + report.error().message,
                     UINT{MB_ICONWARNING}};
  });
}

void TrayWindow::toggle_pause() {
  const auto status = monitor_ ? monitor_->last_status() : std::nullopt;
  if (!status) return;
  // The service checks the caller: a user outside the operators group gets permission_denied,
  // whose message says what to do.
  in_background([monitor = monitor_, paused = status->paused]() -> Outcome {
    auto reply = monitor->command(paused ? "resume" : "pause");
    if (reply) return std::nullopt;
    return std::pair{reply.error().message, UINT{MB_ICONWARNING}};
  });
}

void TrayWindow::open_log_folder() {
  const auto status = monitor_ ? monitor_->last_status() : std::nullopt;
  if (!status || status->data_dir.empty()) return;
  const std::filesystem::path folder =
      std::filesystem::path(core::win::to_wide(status->data_dir)) / L"logs";
  const std::string shown = core::win::to_utf8(folder.wstring());
  // The data folder is for SYSTEM and Administrators only. Explorer would offer a user who cannot
  // read it "Continue" to get access, which writes that user into the folder's permissions, so a
  // folder this process cannot list is explained instead of opened.
  std::error_code ec;
  std::filesystem::directory_iterator probe(folder, ec);
  if (ec) {
    message_box("The log folder " + shown +
                    " can be read only by administrators (it holds serial numbers and user "
                    "names). Open it from an elevated Explorer or command prompt, or run "
                    "\"hangar status\" for the service's state.",
                MB_ICONINFORMATION);
    return;
  }
  const auto result = reinterpret_cast<INT_PTR>(
      ShellExecuteW(hwnd_, L"open", folder.c_str(), nullptr, nullptr, SW_SHOWNORMAL));
  if (result <= 32) {
    message_box("Cannot open " + shown + " (error " + std::to_string(result) + ")", MB_ICONWARNING);
  }
}

void TrayWindow::message_box(const std::string& text, UINT flags) const {
  MessageBoxW(hwnd_, core::win::to_wide(text).c_str(), L"Hangar", MB_OK | flags);
}

}  // namespace hangar::tray
