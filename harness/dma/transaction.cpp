#include "harness/dma/transaction.hpp"

namespace dexthil::dma {

std::string describe(CompletionStatus status) {
  switch (status) {
    case CompletionStatus::kSuccessful: return "SC (successful completion)";
    case CompletionStatus::kUnsupportedRequest: return "UR (unsupported request)";
    case CompletionStatus::kConfigRetry: return "CRS (configuration request retry status)";
    case CompletionStatus::kCompleterAbort: return "CA (completer abort)";
  }
  return "status " + std::to_string(static_cast<int>(status)) + " (reserved)";
}

bool parse_completion_status(const std::string& text, CompletionStatus* out) {
  if (text == "SC") *out = CompletionStatus::kSuccessful;
  else if (text == "UR") *out = CompletionStatus::kUnsupportedRequest;
  else if (text == "CRS") *out = CompletionStatus::kConfigRetry;
  else if (text == "CA") *out = CompletionStatus::kCompleterAbort;
  else return false;
  return true;
}

}  // namespace dexthil::dma
