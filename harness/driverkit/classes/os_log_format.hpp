#pragma once
// The unified log's format language (os_log), rendered to text: printf's conversions plus the
// {public}/{private} privacy and {bool}/{errno} value annotations, %P (bytes at a pointer, with
// the precision as their count) and %m (errno's message).
#include <cstdarg>
#include <string>

namespace dexthil::driverkit {

std::string format_os_log(const char* format, va_list args);

}  // namespace dexthil::driverkit
