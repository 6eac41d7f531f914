/**
 * Runs inside a lab namespace and prints, as one JSON object, what interface discovery
 * sees there: every interface, the default routes, and for each target given on the
 * command line the interface chosen for it and the source address on that interface.
 */
import { defaultRoute, interfaceForTarget, listInterfaces, sourceAddressFor } from '../../src/link/interfaces.js';

const targets: Record<string, { interfaceName?: string; source?: string }> = {};
for (const target of process.argv.slice(2)) {
  const iface = interfaceForTarget(target);
  const source = iface === undefined ? undefined : sourceAddressFor(iface, target);
  targets[target] = { ...(iface && { interfaceName: iface.name }), ...(source && { source }) };
}
process.stdout.write(
  JSON.stringify({ interfaces: listInterfaces(), default4: defaultRoute(4), default6: defaultRoute(6), targets }),
);
