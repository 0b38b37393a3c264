#include "harness/platform/dart_error_handler.hpp"

#include "harness/util/hex.hpp"

namespace dexthil::platform {

void DartErrorHandler::on_dma(const pcie::DmaPath& path, const pcie::Fabric& fabric) {
  if (action_ != DartFaultAction::kPanic || panic_ || path.translation.ok) return;
  const iommu::Dart* dart = fabric.dart(*path.root_port);
  if (!dart) return;  // no IOMMU: nothing refuses a DMA
  // The interrupt comes from what the DART latched: a masked error latches nothing.
  const std::uint32_t status = dart->error_status();
  if (!(iommu::decode_error(dart->config().generation, status).flag)) return;
  // Model: the panic is immediate, at the faulting request's arrival; the interrupt's latency
  // and the panic path's own time are not public, so no later DMA lands in between.
  DartPanic p;
  p.time = sim_.now();
  p.dart = dart->config().instance;
  p.generation = dart->config().generation;
  p.root_port = path.root_port;
  p.status = status;
  p.address = dart->error_address();
  p.endpoint = path.endpoint;
  p.arrived_as = path.arrived_as;
  p.write = path.request.write;
  p.length = path.request.length;
  sim_.trace().record(sim_.now(), p.dart,
                      "panic: ERROR " + util::hex(p.status, 8) + " ERROR_ADDRESS " + util::hex(p.address, 16));
  panic_ = std::move(p);
  sim_.stop();  // after this event nothing more happens
}

}  // namespace dexthil::platform
