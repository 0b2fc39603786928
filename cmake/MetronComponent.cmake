# One helper creates every metron component: its library target, the namespaced
# ALIAS (metron::core, metron::actors, metron::prometheus, ...), its tests and its
# install rules. Compiler flags live on one INTERFACE target, metron_flags.
include_guard(GLOBAL)
include(GNUInstallDirs)

# -- flags shared by every target of the project (not exported to users) --------
add_library(metron_flags INTERFACE)
target_compile_features(metron_flags INTERFACE cxx_std_20)
target_compile_options(metron_flags INTERFACE -Wall -Wextra -Werror)
if(METRON_SANITIZE STREQUAL "thread")
  target_compile_options(metron_flags INTERFACE -fsanitize=thread -g -O1)
  target_link_options(metron_flags INTERFACE -fsanitize=thread)
  target_compile_definitions(metron_flags INTERFACE METRON_TSAN=1)
elseif(METRON_SANITIZE STREQUAL "address")
  target_compile_options(metron_flags INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
  target_link_options(metron_flags INTERFACE -fsanitize=address,undefined)
  target_compile_definitions(metron_flags INTERFACE METRON_ASAN=1)
elseif(NOT METRON_SANITIZE STREQUAL "")
  message(FATAL_ERROR "METRON_SANITIZE must be '', 'thread' or 'address', not '${METRON_SANITIZE}'")
endif()
install(TARGETS metron_flags EXPORT metronTargets)

set(METRON_COMPONENTS "" CACHE INTERNAL "")

# metron_add_component(<name> [SOURCES ...] [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Creates metron_<name> with ALIAS metron::<name>, headers from ./include.
function(metron_add_component name)
  cmake_parse_arguments(arg "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  set(target metron_${name})
  if(arg_SOURCES)
    add_library(${target} STATIC ${arg_SOURCES})
    set(scope PUBLIC)
    target_link_libraries(${target} PRIVATE metron_flags)
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  else()
    add_library(${target} INTERFACE)
    set(scope INTERFACE)
  endif()
  add_library(metron::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  target_compile_features(${target} ${scope} cxx_std_20)
  target_include_directories(${target} ${scope}
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  if(arg_PUBLIC_DEPS)
    target_link_libraries(${target} ${scope} ${arg_PUBLIC_DEPS})
  endif()
  if(arg_PRIVATE_DEPS)
    target_link_libraries(${target} PRIVATE ${arg_PRIVATE_DEPS})
  endif()
  # Public headers are installed; detail/ headers are installed too because the
  # public ones include them, but they are not API.
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(TARGETS ${target} EXPORT metronTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  set(METRON_COMPONENTS ${METRON_COMPONENTS} ${name} CACHE INTERNAL "")
endfunction()

# metron_add_test(<source.cpp> LIBS <targets...> [TIMEOUT s] [LABELS ...] [NO_TSAN])
# One test executable and one ctest per test file, named after the file.
# Every test runs in the ThreadSanitizer build too unless marked NO_TSAN (reason required
# in the caller's comment).
function(metron_add_test source)
  cmake_parse_arguments(arg "NO_TSAN" "TIMEOUT" "LIBS;LABELS" ${ARGN})
  if(arg_NO_TSAN AND METRON_SANITIZE STREQUAL "thread")
    return()
  endif()
  get_filename_component(name ${source} NAME_WE)
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE ${arg_LIBS} GTest::gtest_main metron_flags)
  add_test(NAME ${name} COMMAND ${name} --gtest_brief=1)
  set_tests_properties(${name} PROPERTIES TIMEOUT ${arg_TIMEOUT} LABELS "${arg_LABELS}"
    ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1 second_deadlock_stack=1;ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1")
endfunction()

function(metron_install_package)
  include(CMakePackageConfigHelpers)
  install(EXPORT metronTargets NAMESPACE metron:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/metron)
  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/metronConfig.cmake.in
    ${PROJECT_BINARY_DIR}/metronConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/metron)
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/metronConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/metronConfig.cmake ${PROJECT_BINARY_DIR}/metronConfigVersion.cmake
                ${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/metron)
endfunction()
