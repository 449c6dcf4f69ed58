# hangar_add_test(NAME SOURCES... [LIBS ...] [TIMEOUT seconds] [LSAN_SUPPRESSIONS file]): a
# GoogleTest executable registered with CTest, one CTest test per GoogleTest test.
#
# Time limits: inside the process a watchdog (support/test_main.cpp) ends any test that runs past
# 30 s, or the limit the test set for itself with set_time_limit(), printing what it was waiting
# for; TIMEOUT (default 60 s) is CTest's backstop for each test of the executable, above the
# longest limit a test sets. Both are multiplied by HANGAR_TEST_TIME_SCALE: the sanitizer and
# Wine builds run the same tests several times slower.
set(HANGAR_TEST_TIME_SCALE 1 CACHE STRING "Multiplier for test time limits (ASan, Wine are slower)")

add_library(hangar_test_main STATIC ${CMAKE_CURRENT_LIST_DIR}/support/test_main.cpp)
target_include_directories(hangar_test_main PUBLIC ${CMAKE_CURRENT_LIST_DIR}/support)
target_link_libraries(hangar_test_main PUBLIC GTest::gtest PRIVATE hangar_warnings)

# Cross builds discover tests when ctest runs (under Wine), not at build time.
function(hangar_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT;LSAN_SUPPRESSIONS" "SOURCES;LIBS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 60)
  endif()
  math(EXPR backstop "${ARG_TIMEOUT} * ${HANGAR_TEST_TIME_SCALE}")
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} hangar_test_main GTest::gtest GTest::gmock
                                        hangar_warnings)
  # LSAN_OPTIONS: allocations libcrypto makes and never frees are not ours to report
  # (tests/sanitizers/lsan.supp, or the test's own file); ignored by builds without LeakSanitizer.
  if(NOT ARG_LSAN_SUPPRESSIONS)
    set(ARG_LSAN_SUPPRESSIONS ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/sanitizers/lsan.supp)
  endif()
  set(properties
      TIMEOUT ${backstop} ENVIRONMENT HANGAR_TEST_TIME_SCALE=${HANGAR_TEST_TIME_SCALE}
      ENVIRONMENT_MODIFICATION
      "LSAN_OPTIONS=set:suppressions=${ARG_LSAN_SUPPRESSIONS}")
  if(CMAKE_CROSSCOMPILING)
    gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 120
                         PROPERTIES ${properties})
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${properties})
  endif()
endfunction()
