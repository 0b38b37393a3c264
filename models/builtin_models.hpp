#pragma once
// Every model type built into dexthil, registered explicitly (no static-initialiser tricks that
// a static library link can silently drop).
#include "harness/runner/model_catalog.hpp"
#include "harness/runner/sections/builtin_sections.hpp"

namespace dexthil::models {

void register_dma_exerciser(runner::ModelCatalog& catalog);
void register_dma_testdev(runner::ModelCatalog& catalog);
void register_lsi53c1030(runner::ModelCatalog& catalog);

inline runner::ModelCatalog builtin_catalog() {
  runner::ModelCatalog catalog;
  register_dma_exerciser(catalog);
  register_dma_testdev(catalog);
  register_lsi53c1030(catalog);
  runner::register_builtin_sections(catalog);
  return catalog;
}

}  // namespace dexthil::models
