# Builds the notebook app (ui/) with Vite and embeds the output in the binary.
# include()d by src/server/CMakeLists.txt; sl_ui_embed(VAR) sets VAR to the generated .cc
# that defines sl::server::ui_data::kAssets (src/server/ui_assets.h).
#
# Steps (each reruns only when its inputs change):
#   1. tsc --noEmit (type errors fail the build), then vite build → <build>/ui-dist
#   2. cmake -P ui/embed.cmake → <build>/generated/ui_assets_data.cc
# node and node_modules (npm ci) are needed at build time only.
find_program(SL_NODE_EXECUTABLE node)
if(NOT SL_NODE_EXECUTABLE)
  message(FATAL_ERROR "node not found: the notebook UI is built with node (scripts/bootstrap installs it)")
endif()

function(sl_ui_embed out_var)
  set(ui ${PROJECT_SOURCE_DIR}/ui)
  set(nm ${PROJECT_SOURCE_DIR}/node_modules)
  set(dist ${CMAKE_BINARY_DIR}/ui-dist)
  set(stamp ${CMAKE_BINARY_DIR}/ui-dist.stamp)
  set(gen ${CMAKE_BINARY_DIR}/generated/ui_assets_data.cc)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${ui}/src/* ${ui}/public/*)
  add_custom_command(
    OUTPUT ${stamp}
    COMMAND ${SL_NODE_EXECUTABLE} ${nm}/typescript/bin/tsc -p ${ui}/tsconfig.json
    COMMAND ${CMAKE_COMMAND} -E env SL_UI_OUT=${dist}
            ${SL_NODE_EXECUTABLE} ${nm}/vite/bin/vite.js build --config ${ui}/vite.config.mjs --configLoader native
    COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
    DEPENDS ${sources} ${ui}/index.html ${ui}/vite.config.mjs ${ui}/tsconfig.json ${PROJECT_SOURCE_DIR}/package-lock.json
    WORKING_DIRECTORY ${ui}
    COMMENT "Building the notebook UI (tsc, vite)"
    VERBATIM)
  add_custom_command(
    OUTPUT ${gen}
    COMMAND ${CMAKE_COMMAND} -DDIR=${dist} -DOUT=${gen} -P ${ui}/embed.cmake
    DEPENDS ${stamp} ${ui}/embed.cmake
    COMMENT "Embedding the notebook UI"
    VERBATIM)
  set(${out_var} ${gen} PARENT_SCOPE)
endfunction()
