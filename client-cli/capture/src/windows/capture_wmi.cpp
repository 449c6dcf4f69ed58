// The Windows reader behind `hangar capture`: WMI through COM, the MDM bridge for the hardware hash
// and root\cimv2 for serial, make and model, plus the elevation check the hash depends on.
#include <windows.h>

#include <objbase.h>
#include <oleauto.h>
#include <wbemidl.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "hangar/capture/capture.h"
#include "hangar/core/win_text.h"

namespace hangar::core {
namespace {

// WBEMSTATUS values are an enum with an unsigned underlying type; HRESULT is signed.
constexpr HRESULT hresult(unsigned long value) { return static_cast<HRESULT>(value); }
constexpr HRESULT kAccessDenied = hresult(0x80041003UL);      // WBEM_E_ACCESS_DENIED
constexpr HRESULT kInvalidNamespace = hresult(0x8004100EUL);  // WBEM_E_INVALID_NAMESPACE
constexpr HRESULT kInvalidClass = hresult(0x80041010UL);      // WBEM_E_INVALID_CLASS
constexpr HRESULT kNotFound = hresult(0x80041002UL);          // WBEM_E_NOT_FOUND
constexpr HRESULT kTimedOut = hresult(0x00040004UL);          // WBEM_S_TIMEDOUT
// A WMI call that takes longer than this has hung (a broken repository), not just slowed down.
constexpr long kQueryTimeoutMs = 60'000;

constexpr std::string_view kMdmNamespace = "root\\cimv2\\mdm\\dmmap";
constexpr std::string_view kAdminNote =
    "capture must run as administrator (the hash is readable only by administrators or SYSTEM): "
    "start the prompt with \"Run as administrator\" and capture again";

using win::to_utf8;

// "WBEM_E_INVALID_NAMESPACE (0x8004100E)": the name for the codes people meet here, the number
// always, because that is what they search for.
std::string hresult_text(HRESULT hr) {
  static constexpr std::array<std::pair<unsigned long, std::string_view>, 9> kNames{{
      {0x80041003UL, "WBEM_E_ACCESS_DENIED"},
      {0x8004100EUL, "WBEM_E_INVALID_NAMESPACE"},
      {0x80041010UL, "WBEM_E_INVALID_CLASS"},
      {0x80041002UL, "WBEM_E_NOT_FOUND"},
      {0x80041017UL, "WBEM_E_INVALID_QUERY"},
      {0x8004100CUL, "WBEM_E_NOT_SUPPORTED"},
      {0x80041001UL, "WBEM_E_FAILED"},
      {0x80070005UL, "E_ACCESSDENIED"},
      {0x80040154UL, "REGDB_E_CLASSNOTREG"},
  }};
  std::array<char, 16> number{};
  std::snprintf(number.data(), number.size(), "0x%08lX", static_cast<unsigned long>(hr));
  for (const auto& [code, name] : kNames) {
    if (hresult(code) == hr) return std::string(name) + " " + number.data();
  }
  return std::string("HRESULT ") + number.data();
}

bool is_access_denied(HRESULT hr) { return hr == kAccessDenied || hr == E_ACCESSDENIED; }

// Owns one COM interface pointer.
template <typename T>
class ComPtr {
 public:
  ComPtr() = default;
  ~ComPtr() { reset(); }
  ComPtr(const ComPtr&) = delete;
  ComPtr& operator=(const ComPtr&) = delete;
  ComPtr(ComPtr&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  ComPtr& operator=(ComPtr&& other) noexcept {
    if (this != &other) {
      reset();
      ptr_ = std::exchange(other.ptr_, nullptr);
    }
    return *this;
  }

  T* get() const { return ptr_; }
  T* operator->() const { return ptr_; }
  T** put() {
    reset();
    return &ptr_;
  }
  void reset() {
    if (ptr_ != nullptr) ptr_->Release();
    ptr_ = nullptr;
  }

 private:
  T* ptr_ = nullptr;
};

class Bstr {
 public:
  explicit Bstr(const wchar_t* text) : bstr_(::SysAllocString(text)) {}
  ~Bstr() { ::SysFreeString(bstr_); }
  Bstr(const Bstr&) = delete;
  Bstr& operator=(const Bstr&) = delete;
  BSTR get() const { return bstr_; }

 private:
  BSTR bstr_;
};

class Variant {
 public:
  Variant() { ::VariantInit(&value_); }
  ~Variant() { ::VariantClear(&value_); }
  Variant(const Variant&) = delete;
  Variant& operator=(const Variant&) = delete;
  VARIANT* get() { return &value_; }

 private:
  VARIANT value_;
};

// COM for this thread, released on every return path. A thread already in another apartment
// (RPC_E_CHANGED_MODE) can still use WMI, it just must not uninitialise what it did not set up.
class ComApartment {
 public:
  HRESULT enter() {
    const HRESULT hr = ::CoInitializeEx(nullptr, COINIT_MULTITHREADED);
    if (SUCCEEDED(hr)) entered_ = true;
    return hr == RPC_E_CHANGED_MODE ? S_OK : hr;
  }
  ~ComApartment() {
    if (entered_) ::CoUninitialize();
  }

 private:
  bool entered_ = false;
};

struct QueryResult {
  std::optional<WmiProperties> object;  // the first instance; nullopt when there was none
  HRESULT hr = S_OK;                    // failure of the query itself
};

Result<ComPtr<IWbemServices>> connect(IWbemLocator* locator, const wchar_t* name,
                                      HRESULT& failure) {
  ComPtr<IWbemServices> services;
  Bstr path(name);
  // USE_MAX_WAIT: a hung winmgmt makes ConnectServer fail after two minutes instead of never.
  failure =
      locator->ConnectServer(path.get(), nullptr, nullptr, nullptr, WBEM_FLAG_CONNECT_USE_MAX_WAIT,
                             nullptr, nullptr, services.put());
  if (FAILED(failure)) return make_error("capture.wmi_failed", hresult_text(failure));
  // The proxy must impersonate us, or providers see an anonymous caller and deny the MDM class.
  const HRESULT blanket =
      ::CoSetProxyBlanket(services.get(), RPC_C_AUTHN_WINNT, RPC_C_AUTHZ_NONE, nullptr,
                          RPC_C_AUTHN_LEVEL_CALL, RPC_C_IMP_LEVEL_IMPERSONATE, nullptr, EOAC_NONE);
  if (FAILED(blanket)) {
    failure = blanket;
    return make_error("capture.wmi_failed",
                      "setting the WMI proxy's security failed: " + hresult_text(blanket));
  }
  return services;
}

// Runs `wql` and reads `properties` of the first instance. NULL or absent properties are left out.
QueryResult query_first(IWbemServices* services, const wchar_t* wql,
                        std::initializer_list<const wchar_t*> properties) {
  QueryResult result;
  ComPtr<IEnumWbemClassObject> rows;
  Bstr language(L"WQL");
  Bstr query(wql);
  result.hr = services->ExecQuery(language.get(), query.get(),
                                  WBEM_FLAG_FORWARD_ONLY | WBEM_FLAG_RETURN_IMMEDIATELY, nullptr,
                                  rows.put());
  if (FAILED(result.hr)) return result;
  ComPtr<IWbemClassObject> row;
  ULONG returned = 0;
  // Semi-synchronous: an unknown class or a denied provider surfaces here, not in ExecQuery.
  const HRESULT next = rows->Next(kQueryTimeoutMs, 1, row.put(), &returned);
  if (next == kTimedOut) {
    result.hr = hresult(0x80041032UL);  // WBEM_E_CALL_CANCELLED: it did not answer in time
    return result;
  }
  if (FAILED(next)) {
    result.hr = next;
    return result;
  }
  if (returned == 0 || row.get() == nullptr) return result;
  WmiProperties values;
  for (const wchar_t* name : properties) {
    Variant value;
    if (FAILED(row->Get(name, 0, value.get(), nullptr, nullptr))) continue;
    VARIANT* v = value.get();
    if (v->vt == VT_NULL || v->vt == VT_EMPTY) continue;
    if (v->vt != VT_BSTR && FAILED(::VariantChangeType(v, v, 0, VT_BSTR))) continue;
    const BSTR text = v->bstrVal;
    values.emplace(to_utf8(std::wstring_view(name)),
                   text == nullptr ? std::string() : to_utf8({text, ::SysStringLen(text)}));
  }
  result.object = std::move(values);
  return result;
}

std::string mdm_missing_note(HRESULT hr) {
  return "the WMI class MDM_DevDetail_Ext01 (namespace " + std::string(kMdmNamespace) +
         ") is not available on this system (" + hresult_text(hr) +
         "), so no hardware hash can be read: it needs full Windows 10 (1703 or later) or 11 with "
         "the MDM WMI bridge (Windows PE and Wine have none)";
}

// Reads DeviceHardwareData, explaining every way that can fail in `notes`.
std::optional<WmiProperties> read_dev_detail(IWbemLocator* locator, bool elevated,
                                             std::vector<std::string>& notes) {
  HRESULT failure = S_OK;
  auto mdm = connect(locator, L"ROOT\\CIMV2\\mdm\\dmmap", failure);
  if (!mdm) {
    if (failure == kInvalidNamespace || failure == kNotFound) {
      notes.push_back(mdm_missing_note(failure));
    } else if (is_access_denied(failure)) {
      notes.push_back(elevated ? std::string(kAdminNote) + " [namespace " +
                                     std::string(kMdmNamespace) + ": " + hresult_text(failure) + "]"
                               : std::string(kAdminNote));
    } else {
      notes.push_back("connecting to WMI namespace " + std::string(kMdmNamespace) + " failed (" +
                      mdm.error().message + "), so no hardware hash was read");
    }
    return std::nullopt;
  }
  auto dev_detail = query_first(mdm->get(),
                                L"SELECT DeviceHardwareData FROM MDM_DevDetail_Ext01 WHERE "
                                L"InstanceID='Ext' AND ParentID='./DevDetail'",
                                {L"DeviceHardwareData"});
  if (FAILED(dev_detail.hr)) {
    if (dev_detail.hr == kInvalidClass || dev_detail.hr == kInvalidNamespace) {
      notes.push_back(mdm_missing_note(dev_detail.hr));
    } else if (is_access_denied(dev_detail.hr)) {
      notes.push_back(elevated ? std::string(kAdminNote) +
                                     " [MDM_DevDetail_Ext01: " + hresult_text(dev_detail.hr) + "]"
                               : std::string(kAdminNote));
    } else {
      notes.push_back("querying MDM_DevDetail_Ext01 failed (" + hresult_text(dev_detail.hr) +
                      "), so no hardware hash was read");
    }
    return std::nullopt;
  }
  if (!dev_detail.object) {
    // Non-administrators get an empty answer rather than an error on some builds.
    notes.push_back(elevated ? std::string("MDM_DevDetail_Ext01 returned no instance for "
                                           "InstanceID='Ext', so no hardware hash was read")
                             : std::string(kAdminNote));
  }
  return dev_detail.object;
}

std::optional<WmiProperties> read_cimv2(IWbemServices* cimv2, const wchar_t* wql,
                                        std::string_view class_name,
                                        std::initializer_list<const wchar_t*> properties,
                                        std::vector<std::string>& notes) {
  auto result = query_first(cimv2, wql, properties);
  if (FAILED(result.hr)) {
    notes.push_back("querying " + std::string(class_name) + " failed (" + hresult_text(result.hr) +
                    ")");
    return std::nullopt;
  }
  if (!result.object) {
    notes.push_back(std::string(class_name) + " has no instance on this system");
  }
  return std::move(result.object);
}

}  // namespace

bool running_elevated() {
  HANDLE token = nullptr;
  bool elevated = false;
  if (::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token)) {
    TOKEN_ELEVATION elevation{};
    DWORD size = 0;
    if (::GetTokenInformation(token, TokenElevation, &elevation, sizeof(elevation), &size)) {
      elevated = elevation.TokenIsElevated != 0;
    }
    ::CloseHandle(token);
  }
  if (elevated) return true;
  // With UAC off there is no split token; an enabled Administrators membership is what counts
  // (a filtered token holds it deny-only, so CheckTokenMembership says no).
  SID_IDENTIFIER_AUTHORITY nt_authority = SECURITY_NT_AUTHORITY;
  PSID administrators = nullptr;
  if (!::AllocateAndInitializeSid(&nt_authority, 2, SECURITY_BUILTIN_DOMAIN_RID,
                                  DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0, 0, &administrators)) {
    return false;
  }
  BOOL member = FALSE;
  if (!::CheckTokenMembership(nullptr, administrators, &member)) member = FALSE;
  ::FreeSid(administrators);
  return member != FALSE;
}

Result<CapturedDevice> capture_local_device(const CaptureOptions& options) {
  const bool elevated = running_elevated();
  ComApartment apartment;
  if (const HRESULT hr = apartment.enter(); FAILED(hr)) {
    return make_error("capture.wmi_failed", "COM could not be initialised (" + hresult_text(hr) +
                                                "), so WMI cannot be asked for the device");
  }
  // Process-wide and settable once: when the host (a service, a test runner) already set it,
  // RPC_E_TOO_LATE is expected and the per-proxy blanket in connect() still applies.
  (void)::CoInitializeSecurity(nullptr, -1, nullptr, nullptr, RPC_C_AUTHN_LEVEL_DEFAULT,
                               RPC_C_IMP_LEVEL_IMPERSONATE, nullptr, EOAC_NONE, nullptr);

  ComPtr<IWbemLocator> locator;
  if (const HRESULT hr =
          ::CoCreateInstance(CLSID_WbemLocator, nullptr, CLSCTX_INPROC_SERVER, IID_IWbemLocator,
                             reinterpret_cast<void**>(locator.put()));
      FAILED(hr)) {
    return make_error("capture.wmi_failed",
                      "WMI is not available (creating its locator failed: " + hresult_text(hr) +
                          "): check that the Windows Management Instrumentation service "
                          "(winmgmt) is running");
  }
  HRESULT failure = S_OK;
  auto cimv2 = connect(locator.get(), L"ROOT\\CIMV2", failure);
  if (!cimv2) {
    return make_error("capture.wmi_failed",
                      "connecting to WMI namespace root\\cimv2 failed (" + cimv2.error().message +
                          "): check that the Windows Management Instrumentation service "
                          "(winmgmt) is running");
  }

  std::vector<std::string> notes;
  auto bios = read_cimv2(cimv2->get(), L"SELECT SerialNumber FROM Win32_BIOS", "Win32_BIOS",
                         {L"SerialNumber"}, notes);
  auto computer_system =
      read_cimv2(cimv2->get(), L"SELECT Manufacturer, Model FROM Win32_ComputerSystem",
                 "Win32_ComputerSystem", {L"Manufacturer", L"Model"}, notes);
  auto dev_detail = read_dev_detail(locator.get(), elevated, notes);
  const bool hash_read = dev_detail && dev_detail->find("DeviceHardwareData") != dev_detail->end();
  // Not being elevated is the likeliest reason for a missing hash, so it is said first.
  if (!elevated && !hash_read && std::find(notes.begin(), notes.end(), kAdminNote) == notes.end()) {
    notes.insert(notes.begin(), std::string(kAdminNote));
  }

  DeviceProperties properties = properties_from_wmi(bios, computer_system, dev_detail);
  properties.notes.insert(properties.notes.begin(), notes.begin(), notes.end());
  return interpret_device(properties, options);
}

}  // namespace hangar::core
