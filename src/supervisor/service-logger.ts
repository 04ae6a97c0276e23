/**
 * service-logger: a service with a `log/` subdirectory, as s6 runs it — the logger is a
 * service of its own whose stdin is the service's stdout; it starts first (no line is lost)
 * and stops after the service, reading its input to the end.
 */
import type { ServiceDef } from './service-dir.js';
import { Service, type ServiceOptions } from './service.js';

/** superviseService makes the Service of `def`, with its logger (`service.logger`) when it has a `log/`. */
export function superviseService(def: ServiceDef, opts: ServiceOptions): Service {
  if (!def.logger) return new Service(def, opts);
  const logger = new Service(def.logger, { ...opts, input: true });
  const service = new Service(def, { ...opts, logTo: (chunk) => logger.write(chunk) });
  service.logger = logger;
  return service;
}

/** startService starts the logger, then the service. */
export function startService(service: Service): void {
  service.logger?.start();
  service.start();
}
