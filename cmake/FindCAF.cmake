# FindCAF: CAF 0.17 (Debian's libcaf-dev ships no CMake package file).
# Defines CAF::core and CAF::io imported targets, and CAF::openssl (libcaf_openssl,
# for metron::remote_tls) when that library and OpenSSL's headers are found. With
# METRON_CAF_ROOT set (the ThreadSanitizer build of CAF, see scripts/build-caf-tsan.sh)
# only that prefix is searched, so headers and libraries always come from the same
# build (a prefix built without libcaf_openssl has no CAF::openssl).
include_guard(GLOBAL)
if(METRON_CAF_ROOT)
  set(_caf_hints PATHS ${METRON_CAF_ROOT} NO_DEFAULT_PATH)
  set(_caf_core_names caf_core_static caf_core)
  set(_caf_io_names caf_io_static caf_io)
  set(_caf_openssl_names caf_openssl_static caf_openssl)
else()
  set(_caf_hints)
  set(_caf_core_names caf_core)
  set(_caf_io_names caf_io)
  set(_caf_openssl_names caf_openssl)
endif()
find_path(CAF_INCLUDE_DIR caf/all.hpp PATH_SUFFIXES include ${_caf_hints})
find_library(CAF_CORE_LIBRARY NAMES ${_caf_core_names} PATH_SUFFIXES lib lib64 ${_caf_hints})
find_library(CAF_IO_LIBRARY NAMES ${_caf_io_names} PATH_SUFFIXES lib lib64 ${_caf_hints})
find_library(CAF_OPENSSL_LIBRARY NAMES ${_caf_openssl_names} PATH_SUFFIXES lib lib64 ${_caf_hints})
if(CAF_INCLUDE_DIR AND EXISTS ${CAF_INCLUDE_DIR}/caf/config.hpp)
  file(STRINGS ${CAF_INCLUDE_DIR}/caf/config.hpp _caf_ver REGEX "^#define CAF_VERSION [0-9]+")
  string(REGEX REPLACE ".* ([0-9]+)" "\\1" _caf_ver "${_caf_ver}")
  math(EXPR _maj "${_caf_ver} / 10000")
  math(EXPR _min "(${_caf_ver} / 100) % 100")
  math(EXPR _pat "${_caf_ver} % 100")
  set(CAF_VERSION ${_maj}.${_min}.${_pat})
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF
  REQUIRED_VARS CAF_INCLUDE_DIR CAF_CORE_LIBRARY CAF_IO_LIBRARY
  VERSION_VAR CAF_VERSION
  FAIL_MESSAGE "CAF 0.17 not found: install Debian's libcaf-dev (scripts/install-deps.sh does)")
if(CAF_FOUND AND NOT TARGET CAF::core)
  find_package(Threads REQUIRED)
  add_library(CAF::core UNKNOWN IMPORTED)
  set_target_properties(CAF::core PROPERTIES IMPORTED_LOCATION ${CAF_CORE_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${CAF_INCLUDE_DIR}
    INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS}")
  add_library(CAF::io UNKNOWN IMPORTED)
  set_target_properties(CAF::io PROPERTIES IMPORTED_LOCATION ${CAF_IO_LIBRARY}
    INTERFACE_LINK_LIBRARIES CAF::core)
endif()
# Optional: libcaf_openssl (a static one needs libssl and libcrypto after it).
if(CAF_FOUND AND CAF_OPENSSL_LIBRARY AND EXISTS ${CAF_INCLUDE_DIR}/caf/openssl/manager.hpp
   AND NOT TARGET CAF::openssl)
  find_package(OpenSSL QUIET)
  if(OPENSSL_FOUND)
    add_library(CAF::openssl UNKNOWN IMPORTED)
    set_target_properties(CAF::openssl PROPERTIES IMPORTED_LOCATION ${CAF_OPENSSL_LIBRARY}
      INTERFACE_LINK_LIBRARIES "CAF::io;OpenSSL::SSL;OpenSSL::Crypto")
  endif()
endif()
