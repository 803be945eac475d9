// The fixed catalog of the SQL fuzz target (and of its replay test): tables t, u, e.
#pragma once

#include <memory>

#include "sql/engine.h"

namespace sl::fuzz {

// Opens an engine over a fresh temporary directory holding the fixed tables.
std::unique_ptr<sql::Engine> open_fixed_engine();

}  // namespace sl::fuzz
