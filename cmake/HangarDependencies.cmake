# Third-party dependencies as imported targets with one set of names for every platform:
#   hangar::sqlite  hangar::json  hangar::spdlog  hangar::boost  hangar::csv  (and Threads::Threads)
# Native Linux and MSVC/vcpkg use the packages' CMake configs; the mingw cross build uses the
# prefix prepared by scripts/setup-deps.sh (HANGAR_CROSS_PREFIX, set by the toolchain file).
find_package(Threads REQUIRED)

if(MINGW AND HANGAR_CROSS_PREFIX)
  set(_inc ${HANGAR_CROSS_PREFIX}/include)
  if(NOT EXISTS ${_inc}/nlohmann/json.hpp OR NOT EXISTS ${HANGAR_CROSS_PREFIX}/lib/libsqlite3.a)
    message(FATAL_ERROR "Cross prefix ${HANGAR_CROSS_PREFIX} is incomplete: run scripts/setup-deps.sh")
  endif()
  add_library(hangar::json INTERFACE IMPORTED)
  target_include_directories(hangar::json SYSTEM INTERFACE ${_inc})
  add_library(hangar::boost INTERFACE IMPORTED)
  target_include_directories(hangar::boost SYSTEM INTERFACE ${_inc})
  target_compile_definitions(hangar::boost INTERFACE _WIN32_WINNT=0x0A00 WIN32_LEAN_AND_MEAN NOMINMAX
                                                     BOOST_ALL_NO_LIB)
  target_link_libraries(hangar::boost INTERFACE ws2_32 mswsock)
  # spdlog and fmt as static libraries built once by scripts/build-logging-mingw.sh: header-only
  # mode would compile their implementation again in every file that logs (2.5x the build time).
  foreach(_lib spdlog fmt)
    if(NOT EXISTS ${HANGAR_CROSS_PREFIX}/lib/lib${_lib}.a)
      message(FATAL_ERROR "Cross prefix ${HANGAR_CROSS_PREFIX} has no lib${_lib}.a: run scripts/setup-deps.sh")
    endif()
  endforeach()
  add_library(hangar::fmt STATIC IMPORTED)
  set_target_properties(hangar::fmt PROPERTIES IMPORTED_LOCATION ${HANGAR_CROSS_PREFIX}/lib/libfmt.a
                                               INTERFACE_INCLUDE_DIRECTORIES ${_inc})
  add_library(hangar::spdlog STATIC IMPORTED)
  set_target_properties(hangar::spdlog PROPERTIES IMPORTED_LOCATION ${HANGAR_CROSS_PREFIX}/lib/libspdlog.a
                                                  INTERFACE_INCLUDE_DIRECTORIES ${_inc})
  target_compile_definitions(hangar::spdlog INTERFACE SPDLOG_COMPILED_LIB SPDLOG_FMT_EXTERNAL)
  target_link_libraries(hangar::spdlog INTERFACE hangar::fmt)
  add_library(hangar::sqlite STATIC IMPORTED)
  set_target_properties(hangar::sqlite PROPERTIES IMPORTED_LOCATION ${HANGAR_CROSS_PREFIX}/lib/libsqlite3.a
                                                  INTERFACE_INCLUDE_DIRECTORIES ${_inc})
  # libcsv (CSV parsing in hangar_core), built from Debian's source package by setup-deps.sh.
  if(NOT EXISTS ${HANGAR_CROSS_PREFIX}/lib/libcsv.a OR NOT EXISTS ${HANGAR_CROSS_PREFIX}/include/libcsv/csv.h)
    message(FATAL_ERROR "Cross prefix ${HANGAR_CROSS_PREFIX} has no libcsv: run scripts/setup-deps.sh")
  endif()
  add_library(hangar::csv STATIC IMPORTED)
  set_target_properties(hangar::csv PROPERTIES IMPORTED_LOCATION ${HANGAR_CROSS_PREFIX}/lib/libcsv.a
                                               INTERFACE_INCLUDE_DIRECTORIES ${HANGAR_CROSS_PREFIX}/include/libcsv)
else()
  find_package(nlohmann_json 3.9 REQUIRED)
  add_library(hangar::json ALIAS nlohmann_json::nlohmann_json)
  find_package(Boost 1.74 REQUIRED)
  add_library(hangar::boost INTERFACE IMPORTED)
  target_link_libraries(hangar::boost INTERFACE Boost::headers)
  if(WIN32)
    target_compile_definitions(hangar::boost INTERFACE _WIN32_WINNT=0x0A00 WIN32_LEAN_AND_MEAN NOMINMAX)
  endif()
  find_package(spdlog REQUIRED)
  add_library(hangar::spdlog ALIAS spdlog::spdlog)
  find_package(SQLite3 REQUIRED)
  add_library(hangar::sqlite ALIAS SQLite::SQLite3)
  # libcsv (Debian: libcsv-dev) ships no CMake config or pkg-config file.
  find_path(HANGAR_CSV_INCLUDE_DIR csv.h)
  find_library(HANGAR_CSV_LIBRARY NAMES csv libcsv)  # libcsv.so; vcpkg: csv.lib or libcsv.lib
  if(NOT HANGAR_CSV_INCLUDE_DIR OR NOT HANGAR_CSV_LIBRARY)
    message(FATAL_ERROR "libcsv not found: install libcsv-dev (scripts/setup-deps.sh)")
  endif()
  add_library(hangar::csv UNKNOWN IMPORTED)
  set_target_properties(hangar::csv PROPERTIES IMPORTED_LOCATION ${HANGAR_CSV_LIBRARY}
                                               INTERFACE_INCLUDE_DIRECTORIES ${HANGAR_CSV_INCLUDE_DIR})
endif()

if(HANGAR_BUILD_TESTS)
  if(MINGW)
    # Debian ships GoogleTest as sources in /usr/src/googletest: build them with the cross compiler.
    set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
    set(gtest_disable_pthreads OFF CACHE BOOL "" FORCE)
    add_subdirectory(/usr/src/googletest ${CMAKE_BINARY_DIR}/_googletest EXCLUDE_FROM_ALL)
    # googletest 1.12+ defines the GTest:: names itself; older ones do not.
    if(NOT TARGET GTest::gtest)
      add_library(GTest::gtest ALIAS gtest)
      add_library(GTest::gtest_main ALIAS gtest_main)
      add_library(GTest::gmock ALIAS gmock)
    endif()
  else()
    find_package(GTest REQUIRED)
  endif()
  include(GoogleTest)
endif()

# ==== hangar::cpprest (cpprestsdk) ==============================================================
# mingw: the static library scripts/build-cpprest-mingw.sh builds into the cross prefix (WinHTTP
#   client, PPLX, no websockets, no compression, no http_listener: using the listener fails to link).
# MSVC: vcpkg's cpprestsdk. Linux: Debian's libcpprest-dev (asio client and listener); its headers
#   inline Boost.Asio SSL code, so consumers link OpenSSL themselves.
if(MINGW AND HANGAR_CROSS_PREFIX)
  if(NOT EXISTS ${HANGAR_CROSS_PREFIX}/lib/libcpprest.a
     OR NOT EXISTS ${HANGAR_CROSS_PREFIX}/include/cpprest/http_client.h)
    message(FATAL_ERROR "Cross prefix ${HANGAR_CROSS_PREFIX} has no cpprestsdk: run scripts/setup-deps.sh "
                        "(or scripts/build-cpprest-mingw.sh)")
  endif()
  add_library(hangar::cpprest STATIC IMPORTED)
  set_target_properties(hangar::cpprest PROPERTIES
    IMPORTED_LOCATION ${HANGAR_CROSS_PREFIX}/lib/libcpprest.a
    INTERFACE_INCLUDE_DIRECTORIES ${HANGAR_CROSS_PREFIX}/include
    # The same public definitions the cpprest build itself uses (static, PPLX, websockets excluded).
    INTERFACE_COMPILE_DEFINITIONS "_NO_ASYNCRTIMP;_NO_PPLXIMP;CPPREST_FORCE_PPLX=1;CPPREST_EXCLUDE_WEBSOCKETS=1"
    # WinHTTP client; crypt32: certificate chain checks and CryptProtectMemory; bcrypt: hashing.
    INTERFACE_LINK_LIBRARIES "winhttp;crypt32;bcrypt")
elseif(MSVC)
  find_package(cpprestsdk CONFIG REQUIRED)
  add_library(hangar::cpprest INTERFACE IMPORTED)
  target_link_libraries(hangar::cpprest INTERFACE cpprestsdk::cpprest)
else()
  find_package(cpprestsdk REQUIRED)
  add_library(hangar::cpprest INTERFACE IMPORTED)
  target_link_libraries(hangar::cpprest INTERFACE cpprestsdk::cpprest)
  if(NOT WIN32)
    find_package(OpenSSL REQUIRED)
    target_link_libraries(hangar::cpprest INTERFACE OpenSSL::SSL OpenSSL::Crypto)
  endif()
  # cpprest's string bodies view a streambuf<char> as a streambuf<unsigned char>: UBSan's vptr
  # check flags that inside cpprest's own headers wherever they are instantiated, so every user
  # of cpprest turns that one check off under sanitizers (the rest of UBSan stays on).
  if(CMAKE_CXX_FLAGS MATCHES "sanitize=[^ ]*undefined")
    target_compile_options(hangar::cpprest INTERFACE -fno-sanitize=vptr)
  endif()
endif()
# ==== end hangar::cpprest =======================================================================
