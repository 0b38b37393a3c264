#include "harness/runner/model_catalog.hpp"

namespace dexthil::runner {

const ModelType* ModelCatalog::find(const std::string& type) const {
  for (const ModelType& t : types_) {
    if (t.info.type == type) return &t;
  }
  return nullptr;
}

std::vector<scenario::ModelTypeInfo> ModelCatalog::infos() const {
  std::vector<scenario::ModelTypeInfo> out;
  for (const ModelType& t : types_) out.push_back(t.info);
  return out;
}

}  // namespace dexthil::runner
